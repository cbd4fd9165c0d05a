-- Per destination facility, its transfers received short or unconfirmed: ids, transfers (JSON), counts,
-- shortfall; $1 = country, $2 = from, $3 = to (exclusive), $4 = scan day, $5 = confirm_days,
-- $6 = min_shortfall_units.
WITH t AS (
    SELECT t.id, t.from_facility_id, t.to_facility_id, t.product_id, t.shipped_at, t.quantity_units, t.received_units,
           t.received_at, CASE WHEN t.received_units IS NOT NULL THEN t.quantity_units - t.received_units END AS shortfall,
           CASE WHEN t.received_at IS NULL THEN $4::date - (t.shipped_at AT TIME ZONE $7)::date END AS days_unconfirmed
    FROM transfers t
    WHERE t.country_code = $1 AND t.shipped_at >= $2 AND t.shipped_at < $3),
bad AS (
    SELECT * FROM t
    WHERE shortfall >= $6 OR (received_at IS NULL AND days_unconfirmed > $5))
SELECT b.to_facility_id AS facility_id, f.region_id, array_agg(b.id ORDER BY b.id) AS transfer_ids,
       jsonb_agg(jsonb_build_object('id', b.id, 'from_facility_id', b.from_facility_id, 'product_id', b.product_id,
           'shipped_at', b.shipped_at, 'shipped_units', b.quantity_units, 'received_units', b.received_units,
           'received_at', b.received_at, 'shortfall_units', b.shortfall, 'days_unconfirmed', b.days_unconfirmed) ORDER BY b.id) AS transfers,
       count(*) FILTER (WHERE b.shortfall >= $6) AS short,
       coalesce(sum(b.shortfall) FILTER (WHERE b.shortfall >= $6), 0)::bigint AS shortfall_units,
       count(*) FILTER (WHERE b.received_at IS NULL) AS unconfirmed
FROM bad b JOIN facilities f ON f.id = b.to_facility_id
GROUP BY b.to_facility_id, f.region_id ORDER BY b.to_facility_id
