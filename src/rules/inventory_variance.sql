-- Per facility, its inventory counts short beyond the thresholds: ids, products, counts (JSON), shortfall
-- units, high; $1 = country, $2 = from, $3 = to (exclusive), $4 = pct, $5 = units, $6 = high_pct.
WITH short AS (
    SELECT c.id, c.facility_id, c.product_id, c.counted_at, c.expected_units, c.counted_units,
           c.variance_units, -c.variance_units AS shortfall
    FROM inventory_counts c
    WHERE c.country_code = $1 AND c.counted_at >= $2 AND c.counted_at < $3 AND c.variance_units < 0
      AND (-c.variance_units > $5 OR (-c.variance_units)::numeric * 100 > $4 * c.expected_units))
SELECT s.facility_id, f.region_id, array_agg(s.id ORDER BY s.id) AS count_ids,
       array_agg(DISTINCT s.product_id) AS product_ids,
       jsonb_agg(jsonb_build_object('id', s.id, 'product_id', s.product_id, 'counted_at', s.counted_at,
           'expected_units', s.expected_units, 'counted_units', s.counted_units,
           'variance_units', s.variance_units,
           'shortfall_pct', CASE WHEN s.expected_units > 0
               THEN trim_scale(round(s.shortfall::numeric * 100 / s.expected_units, 2)) END) ORDER BY s.id) AS counts,
       sum(s.shortfall)::bigint AS shortfall_units,
       bool_or(s.shortfall::numeric * 100 > $6 * s.expected_units) AS high
FROM short s JOIN facilities f ON f.id = s.facility_id
GROUP BY s.facility_id, f.region_id ORDER BY s.facility_id
