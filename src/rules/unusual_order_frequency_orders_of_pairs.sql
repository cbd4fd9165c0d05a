-- Fragment o (short periods): the same for the facility/product pairs with an order in [$2, $3) only;
-- $1 = country, $4 = baseline_days.
SELECT p.facility_id, p.product_id, y.occurred_at, y.secs
FROM (SELECT DISTINCT e.facility_id, e.product_id FROM stock_events e
      WHERE e.country_code = $1 AND e.kind IN ('receipt', 'import_receipt', 'transfer_in')
        AND e.occurred_at >= $2 AND e.occurred_at < $3) p
CROSS JOIN LATERAL (
    SELECT e.occurred_at, extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER (ORDER BY e.occurred_at, e.id)) AS secs
    FROM stock_events e
    WHERE e.facility_id = p.facility_id AND e.product_id = p.product_id
      AND e.kind IN ('receipt', 'import_receipt', 'transfer_in')
      AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3
      AND e.id NOT IN (SELECT id FROM reversed)) y
