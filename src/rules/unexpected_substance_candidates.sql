-- Controlled substances and years without an estimate, with the facilities and products that dispensed them
-- (from facility_monthly); $1 = country, $2 = first day, $3 = last day.
WITH years AS (
    SELECT y AS year, greatest(make_date(y, 1, 1), $2) AS pf, least(make_date(y, 12, 31), $3) AS pt
    FROM generate_series(extract(year FROM $2)::int, extract(year FROM $3)::int) AS y),
in_force AS (
    SELECT DISTINCT ON (v.substance_id, y.year) v.substance_id, v.convention, y.year, y.pf, y.pt
    FROM years y JOIN substance_reference_values v ON v.effective_from <= y.pt
    ORDER BY v.substance_id, y.year, v.effective_from DESC, v.id DESC)
SELECT c.substance_id, s.inn, c.convention, c.year, c.pf AS period_from, c.pt AS period_to,
       array_agg(DISTINCT m.facility_id) AS facility_ids, array_agg(DISTINCT m.product_id) AS product_ids
FROM in_force c
JOIN substances s ON s.id = c.substance_id
JOIN products p ON p.substance_id = c.substance_id
JOIN facility_monthly m ON m.product_id = p.id AND m.bucket = 'dispense'
     AND m.month >= date_trunc('month', c.pf)::date AND m.month <= c.pt
JOIN facilities f ON f.id = m.facility_id AND f.country_code = $1
WHERE c.convention IN ('1961', '1971')
  AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.country_code = $1 AND e.substance_id = c.substance_id AND e.year = c.year)
GROUP BY c.substance_id, s.inn, c.convention, c.year, c.pf, c.pt
ORDER BY c.substance_id, c.year
