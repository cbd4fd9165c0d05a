-- Ledger movements of a country in [$2, $3), by month of the zone $5, summed like
-- supply_monthly (a reversal counts, negated, under the kind it reverses; dispensings under
-- 'dispense').
SELECT e.region_id, f.kind AS facility_kind, e.product_id,
       date_trunc('month', e.occurred_at AT TIME ZONE $5)::date AS month,
       COALESCE(e.reversed_kind, e.kind) AS bucket, sum(e.delta_units)::bigint AS units
FROM stock_events e
JOIN facilities f ON f.id = e.facility_id
WHERE e.country_code = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
  AND ($4::bigint IS NULL OR e.region_id = $4)
GROUP BY 1, 2, 3, 4, 5
UNION ALL
SELECT d.region_id, f.kind, d.product_id,
       date_trunc('month', d.dispensed_at AT TIME ZONE $5)::date,
       'dispense', (-sum(d.quantity_units))::bigint
FROM dispensings d
JOIN facilities f ON f.id = d.facility_id
WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
  AND ($4::bigint IS NULL OR d.region_id = $4)
GROUP BY 1, 2, 3, 4
