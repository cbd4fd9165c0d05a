-- Dispensed units of a country in [$2, $3) by region, product and month of the zone $6 — and by sex and age
-- band when $5 — reversed dispensings left out (as dispensing_monthly does).
SELECT d.region_id, d.product_id,
       date_trunc('month', d.dispensed_at AT TIME ZONE $6)::date AS month,
       CASE WHEN $5 THEN d.patient_sex END AS patient_sex,
       CASE WHEN $5 THEN d.patient_age_band END AS patient_age_band,
       sum(d.quantity_units)::bigint AS units, count(*)::bigint AS records
FROM counted_dispensings d
WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
  AND ($4::bigint IS NULL OR d.region_id = $4)
GROUP BY 1, 2, 3, 4, 5
