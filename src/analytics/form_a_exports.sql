-- Units shipped abroad per product and importing country (export entries, debits, so
-- negated); $1 = country, $2 = from, $3 = to (exclusive).
SELECT e.product_id, a.importing_country AS partner_country, (-sum(e.delta_units))::bigint AS units
FROM stock_events e JOIN export_authorizations a ON a.id = e.export_authorization_id
WHERE e.country_code = $1 AND e.kind = 'export' AND e.occurred_at >= $2 AND e.occurred_at < $3
GROUP BY e.product_id, a.importing_country
