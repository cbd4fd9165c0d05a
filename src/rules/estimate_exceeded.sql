-- Per substance and year, the estimate, authorized and received imports and consumption (g of base) where one
-- reaches the warning, with a high mark; $1 = country, $2 = first year, $3 = last year, $4 = exceed_pct,
-- $5 = warn_pct.
WITH est AS (
    SELECT substance_id, year, sum(quantity_g) AS g, array_agg(id ORDER BY id) AS ids FROM estimates
    WHERE country_code = $1 AND year BETWEEN $2 AND $3 GROUP BY substance_id, year),
auth AS (
    SELECT substance_id, year, sum(quantity_g) AS g, array_agg(id ORDER BY id) AS ids FROM import_authorizations
    WHERE country_code = $1 AND year BETWEEN $2 AND $3 GROUP BY substance_id, year),
mov AS (
    SELECT p.substance_id, extract(year FROM s.month)::int AS year,
           coalesce(sum(s.units * p.base_mg_per_unit) FILTER (WHERE s.bucket = 'import_receipt'), 0) / 1000 AS received_g,
           coalesce(sum(s.units * p.base_mg_per_unit) FILTER (WHERE s.facility_kind IN ('pharmacy', 'hospital')), 0) / 1000 AS consumed_g
    FROM supply_monthly s JOIN products p ON p.id = s.product_id
    WHERE s.country_code = $1 AND s.month >= make_date($2, 1, 1) AND s.month < make_date($3 + 1, 1, 1)
      AND s.bucket IN ('import_receipt', 'receipt', 'transfer_in', 'transfer_out')
    GROUP BY p.substance_id, extract(year FROM s.month)),
k AS (SELECT substance_id, year FROM est UNION SELECT substance_id, year FROM auth UNION SELECT substance_id, year FROM mov),
v AS (
    SELECT k.substance_id, k.year, est.g AS estimate_g, coalesce(auth.g, 0) AS authorized_g,
           coalesce(mov.received_g, 0) AS received_g, coalesce(mov.consumed_g, 0) AS consumed_g,
           coalesce(est.ids, '{}') AS estimate_ids, coalesce(auth.ids, '{}') AS authorization_ids
    FROM k LEFT JOIN est USING (substance_id, year) LEFT JOIN auth USING (substance_id, year)
    LEFT JOIN mov USING (substance_id, year)),
w AS (SELECT v.*, GREATEST(v.authorized_g, v.received_g, v.consumed_g) AS worst_g FROM v)
SELECT w.substance_id, s.inn, w.year, w.estimate_g, w.authorized_g, w.received_g, w.consumed_g, w.estimate_ids,
       w.authorization_ids, (w.estimate_g IS NULL OR w.worst_g * 100 > $4 * w.estimate_g) AS high
FROM w JOIN substances s ON s.id = w.substance_id
WHERE w.worst_g > 0 AND (w.estimate_g IS NULL OR w.worst_g * 100 >= $5 * w.estimate_g)
ORDER BY w.year, w.substance_id
