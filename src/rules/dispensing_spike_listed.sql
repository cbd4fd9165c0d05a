-- The largest dispensings by mass of base of each facility and month asked (ids); $1 = facility ids,
-- $2 = their months (first days), $3 = how many per month.
SELECT x.facility_id, x.month, ARRAY(
    SELECT d.id FROM counted_dispensings d JOIN products p ON p.id = d.product_id
    WHERE d.facility_id = x.facility_id
      AND d.dispensed_at >= x.month::timestamp AT TIME ZONE $4
      AND d.dispensed_at < (x.month + interval '1 month') AT TIME ZONE $4
    ORDER BY d.quantity_units * p.base_mg_per_unit DESC, d.id LIMIT $3) AS ids
FROM unnest($1::bigint[], $2::date[]) AS x(facility_id, month)
