-- Each prescriber's morphine-equivalent mg and records (with and without an ME factor); $1 = country,
-- $2 = from, $3 = to (exclusive), $4 = ME factors' day, $5 = min_records; the me marker stands for
-- me_factors.sql.
WITH /*me*/,
per_product AS (
    SELECT d.prescriber_id, d.product_id, count(*) AS records, sum(d.quantity_units) AS units
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
    GROUP BY d.prescriber_id, d.product_id)
SELECT x.prescriber_id, coalesce(sum(x.units * p.base_mg_per_unit * me.me_factor), 0) AS mme_mg,
       sum(x.records)::bigint AS records, coalesce(sum(x.records) FILTER (WHERE me.me_factor IS NULL), 0)::bigint AS records_without_factor
FROM per_product x
JOIN products p ON p.id = x.product_id
LEFT JOIN me ON me.substance_id = p.substance_id
GROUP BY x.prescriber_id
HAVING sum(x.records) >= $5 AND coalesce(sum(x.units * p.base_mg_per_unit * me.me_factor), 0) > 0
