-- Units received per product and exporting country (import receipts); $1 = country,
-- $2 = from, $3 = to (exclusive).
SELECT e.product_id, a.exporting_country AS partner_country, sum(e.delta_units)::bigint AS units
FROM stock_events e JOIN import_authorizations a ON a.id = e.import_authorization_id
WHERE e.country_code = $1 AND e.kind = 'import_receipt' AND e.occurred_at >= $2 AND e.occurred_at < $3
GROUP BY e.product_id, a.exporting_country
