-- The retail facilities and months without a reporting period; $1 = country, $2 = first month, $3 = last
-- month due (first days).
SELECT f.id AS facility_id, f.region_id, f.kind, m.month::date AS month
FROM facilities f
CROSS JOIN generate_series($2::date, $3::date, interval '1 month') m(month)
WHERE f.country_code = $1 AND f.kind IN ('pharmacy', 'hospital')
  AND f.created_at < (m.month + interval '1 month')::timestamp AT TIME ZONE $4
  AND NOT EXISTS (SELECT 1 FROM reporting_periods rp WHERE rp.facility_id = f.id AND rp.period = m.month::date)
ORDER BY m.month, f.id
