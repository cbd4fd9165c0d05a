-- Back to UTC months: rebuild the aggregates as the first build did, then drop the zone.
DELETE FROM supply_monthly;
DELETE FROM dispensing_monthly;
DELETE FROM facility_monthly;
INSERT INTO supply_monthly
SELECT e.country_code, e.region_id, f.kind, e.product_id, date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::date,
       CASE WHEN e.kind = 'reversal' THEN e.reversed_kind ELSE e.kind END, sum(e.delta_units)
FROM stock_events e JOIN facilities f ON f.id = e.facility_id
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO supply_monthly (country_code, region_id, facility_kind, product_id, month, bucket, units)
SELECT d.country_code, d.region_id, f.kind, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE 'UTC')::date, 'dispense', -sum(d.quantity_units)
FROM dispensings d JOIN facilities f ON f.id = d.facility_id
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (country_code, month, region_id, facility_kind, product_id, bucket) DO UPDATE SET units = supply_monthly.units + EXCLUDED.units;
INSERT INTO dispensing_monthly
SELECT d.country_code, d.region_id, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE 'UTC')::date,
       d.patient_sex, d.patient_age_band, sum(d.quantity_units), count(*)
FROM dispensings d
WHERE NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id)
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO facility_monthly
SELECT facility_id, product_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date,
       CASE WHEN kind = 'reversal' THEN reversed_kind ELSE kind END, sum(delta_units),
       sum(CASE WHEN kind = 'reversal' THEN -1 ELSE 1 END)
FROM stock_events GROUP BY 1, 2, 3, 4;
INSERT INTO facility_monthly
SELECT facility_id, product_id, date_trunc('month', dispensed_at AT TIME ZONE 'UTC')::date, 'dispense', -sum(quantity_units), count(*)
FROM dispensings GROUP BY 1, 2, 3
ON CONFLICT (facility_id, product_id, month, bucket) DO UPDATE SET units = facility_monthly.units + EXCLUDED.units, records = facility_monthly.records + EXCLUDED.records;
ALTER TABLE countries DROP COLUMN time_zone;
