-- Fragment o (long periods): every unreversed order of the country with the seconds since the pair's previous
-- one; $1 = country, $2 = from, $3 = to (exclusive), $4 = baseline_days.
SELECT e.facility_id, e.product_id, e.occurred_at,
       extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER w) AS secs
FROM stock_events e
WHERE e.country_code = $1 AND e.kind IN ('receipt', 'import_receipt', 'transfer_in')
  AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3
  AND e.id NOT IN (SELECT id FROM reversed)
WINDOW w AS (PARTITION BY e.facility_id, e.product_id ORDER BY e.occurred_at, e.id)
