-- The earliest dispensings of each substance, year, facility and product asked (id, time); $1 = substance
-- ids, $2 = years, $3 = facility ids, $4 = product ids, $5 = first days, $6 = last days, $7 = how many each.
SELECT x.substance_id, x.year, l.id, l.dispensed_at
FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::date[], $6::date[])
     AS x(substance_id, year, facility_id, product_id, pf, pt)
CROSS JOIN LATERAL (
    SELECT d.id, d.dispensed_at FROM counted_dispensings d
    WHERE d.facility_id = x.facility_id AND d.product_id = x.product_id
      AND d.dispensed_at >= x.pf::timestamp AT TIME ZONE $8
      AND d.dispensed_at < (x.pt + 1)::timestamp AT TIME ZONE $8
    ORDER BY d.dispensed_at, d.id LIMIT $7) l
