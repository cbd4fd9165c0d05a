-- Each dispensing facility's morphine-equivalent mg, patients and records (with and without an ME factor),
-- every facility that dispensed (the rule counts those it cannot compare); $1 = country, $2 = from,
-- $3 = to (exclusive), $4 = ME factors' day; the me marker stands for me_factors.sql.
WITH /*me*/,
factors AS (
    SELECT p.id AS product_id, p.base_mg_per_unit * me.me_factor AS mme_per_unit
    FROM products p LEFT JOIN me ON me.substance_id = p.substance_id),
per_product AS (
    SELECT d.facility_id, d.patient_pseudonym, d.product_id, sum(d.quantity_units) AS units, count(*) AS records
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
    GROUP BY d.facility_id, d.patient_pseudonym, d.product_id),
per_patient AS (
    SELECT x.facility_id, x.patient_pseudonym, sum(x.units * f.mme_per_unit) AS mme_mg, sum(x.records) AS records,
           coalesce(sum(x.records) FILTER (WHERE f.mme_per_unit IS NULL), 0) AS records_without_factor
    FROM per_product x JOIN factors f ON f.product_id = x.product_id
    GROUP BY x.facility_id, x.patient_pseudonym)
SELECT x.facility_id, f.region_id, f.kind, x.mme_mg, x.patients, x.records, x.records_without_factor
FROM (SELECT facility_id, coalesce(sum(mme_mg), 0) AS mme_mg, count(*) AS patients,
             sum(records)::bigint AS records, sum(records_without_factor)::bigint AS records_without_factor
      FROM per_patient GROUP BY facility_id) x
JOIN facilities f ON f.id = x.facility_id
ORDER BY x.facility_id
