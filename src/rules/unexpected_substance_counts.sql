-- Dispensings, units and mg of base per year, facility and product, of the facilities and products asked;
-- $1 = country, $2 = from, $3 = to (exclusive), $4 = facility ids, $5 = product ids.
SELECT x.year, p.substance_id, x.facility_id, x.product_id, x.records, x.units, x.units * p.base_mg_per_unit AS base_mg
FROM (
    SELECT extract(year FROM d.dispensed_at AT TIME ZONE $6)::int AS year, d.facility_id, d.product_id,
           count(*) AS records, sum(d.quantity_units)::bigint AS units
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
      AND d.facility_id = ANY($4) AND d.product_id = ANY($5)
    GROUP BY 1, 2, 3) x
JOIN products p ON p.id = x.product_id
ORDER BY p.substance_id, x.year, x.facility_id, x.product_id
