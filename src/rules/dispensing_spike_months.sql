-- Each facility's dispensed mass of base (mg) and dispensings per month, from facility_monthly; $1 = country,
-- $2 = first month, $3 = last month (first days).
SELECT m.facility_id, f.region_id, m.month,
       sum(-m.units * p.base_mg_per_unit) AS base_mg, sum(m.records)::bigint AS records
FROM facility_monthly m
JOIN facilities f ON f.id = m.facility_id
JOIN products p ON p.id = m.product_id
WHERE f.country_code = $1 AND m.bucket = 'dispense' AND m.month >= $2 AND m.month <= $3
GROUP BY m.facility_id, f.region_id, m.month
