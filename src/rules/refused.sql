-- Facilities with enough refused attempts of the codes asked: attempt ids, products and attempts per code
-- (details, JSON); $1 = country, $2 = from, $3 = to (exclusive), $4 = codes, $5 = min_attempts.
WITH a AS (
    SELECT a.id, a.facility_id, a.product_id, a.code FROM refused_attempts a
    WHERE a.country_code = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND a.facility_id IS NOT NULL
      AND a.code = ANY($4)),
c AS (SELECT facility_id, jsonb_object_agg(code, n) AS by_code
      FROM (SELECT facility_id, code, count(*) AS n FROM a GROUP BY facility_id, code) x GROUP BY facility_id),
g AS (SELECT facility_id, array_agg(id ORDER BY id) AS attempt_ids,
             coalesce(array_agg(DISTINCT product_id) FILTER (WHERE product_id IS NOT NULL), '{}') AS product_ids
      FROM a GROUP BY facility_id HAVING count(*) >= $5)
SELECT g.facility_id, f.region_id, g.attempt_ids AS ids, g.product_ids, c.by_code AS details
FROM g JOIN c ON c.facility_id = g.facility_id JOIN facilities f ON f.id = g.facility_id
ORDER BY g.facility_id
