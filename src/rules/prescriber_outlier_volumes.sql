-- Each prescriber's home region (where most of their dispensings of the period were made; the lowest id on
-- a tie), morphine-equivalent mg and records (with and without an ME factor), every prescriber of the
-- period (the rule counts those it cannot compare); $1 = country, $2 = from, $3 = to (exclusive),
-- $4 = ME factors' day; the me marker stands for me_factors.sql.
WITH /*me*/,
per_product AS (
    SELECT d.prescriber_id, d.region_id, d.product_id, count(*) AS records, sum(d.quantity_units) AS units
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
    GROUP BY d.prescriber_id, d.region_id, d.product_id),
home AS (
    SELECT DISTINCT ON (r.prescriber_id) r.prescriber_id, r.region_id
    FROM (SELECT prescriber_id, region_id, sum(records) AS records FROM per_product GROUP BY prescriber_id, region_id) r
    ORDER BY r.prescriber_id, r.records DESC, r.region_id)
SELECT x.prescriber_id, h.region_id, coalesce(sum(x.units * p.base_mg_per_unit * me.me_factor), 0) AS mme_mg,
       sum(x.records)::bigint AS records, coalesce(sum(x.records) FILTER (WHERE me.me_factor IS NULL), 0)::bigint AS records_without_factor
FROM per_product x
JOIN home h ON h.prescriber_id = x.prescriber_id
JOIN products p ON p.id = x.product_id
LEFT JOIN me ON me.substance_id = p.substance_id
GROUP BY x.prescriber_id, h.region_id
ORDER BY x.prescriber_id
