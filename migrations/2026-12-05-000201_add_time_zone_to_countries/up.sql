-- Each country's tz-database zone: days and months are cut at its local midnight, not UTC's.
-- On a fresh database the seed writes the zone from reference/countries.csv; here the rows
-- an upgrade already holds get theirs.
ALTER TABLE countries ADD COLUMN time_zone text;
UPDATE countries SET time_zone = CASE code
    WHEN 'KZ' THEN 'Asia/Almaty'
    WHEN 'KG' THEN 'Asia/Bishkek'
    WHEN 'TJ' THEN 'Asia/Dushanbe'
    WHEN 'TM' THEN 'Asia/Ashgabat'
    WHEN 'UZ' THEN 'Asia/Tashkent'
    ELSE 'UTC' END;
ALTER TABLE countries ALTER COLUMN time_zone SET NOT NULL;
ALTER TABLE countries ADD CONSTRAINT countries_time_zone_format CHECK (time_zone ~ '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$');

-- The monthly aggregates were cut at UTC midnight: rebuild them in each country's months
-- (the same sums as the first build, by local month).
DELETE FROM supply_monthly;
DELETE FROM dispensing_monthly;
DELETE FROM facility_monthly;
INSERT INTO supply_monthly
SELECT e.country_code, e.region_id, f.kind, e.product_id, date_trunc('month', e.occurred_at AT TIME ZONE c.time_zone)::date,
       CASE WHEN e.kind = 'reversal' THEN e.reversed_kind ELSE e.kind END, sum(e.delta_units)
FROM stock_events e JOIN facilities f ON f.id = e.facility_id JOIN countries c ON c.code = e.country_code
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO supply_monthly (country_code, region_id, facility_kind, product_id, month, bucket, units)
SELECT d.country_code, d.region_id, f.kind, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE c.time_zone)::date, 'dispense', -sum(d.quantity_units)
FROM dispensings d JOIN facilities f ON f.id = d.facility_id JOIN countries c ON c.code = d.country_code
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (country_code, month, region_id, facility_kind, product_id, bucket) DO UPDATE SET units = supply_monthly.units + EXCLUDED.units;
INSERT INTO dispensing_monthly
SELECT d.country_code, d.region_id, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE c.time_zone)::date,
       d.patient_sex, d.patient_age_band, sum(d.quantity_units), count(*)
FROM dispensings d JOIN countries c ON c.code = d.country_code
WHERE NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id)
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO facility_monthly
SELECT e.facility_id, e.product_id, date_trunc('month', e.occurred_at AT TIME ZONE c.time_zone)::date,
       CASE WHEN e.kind = 'reversal' THEN e.reversed_kind ELSE e.kind END, sum(e.delta_units),
       sum(CASE WHEN e.kind = 'reversal' THEN -1 ELSE 1 END)
FROM stock_events e JOIN countries c ON c.code = e.country_code GROUP BY 1, 2, 3, 4;
INSERT INTO facility_monthly
SELECT d.facility_id, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE c.time_zone)::date, 'dispense', -sum(d.quantity_units), count(*)
FROM dispensings d JOIN countries c ON c.code = d.country_code GROUP BY 1, 2, 3
ON CONFLICT (facility_id, product_id, month, bucket) DO UPDATE SET units = facility_monthly.units + EXCLUDED.units, records = facility_monthly.records + EXCLUDED.records;

-- The daily MME of the dispensings recorded so far, by the labelled strength (migration
-- 2026-12-05-000101) and the factor in force on the local dispensing day; transdermal
-- products by their delivery rate. A derived figure, recomputed once here: the append-only
-- guard is lifted for this only.
ALTER TABLE dispensings DISABLE TRIGGER dispensings_append_only;
UPDATE dispensings d
SET daily_mme = (
    SELECT CASE
        WHEN p.delivery_mcg_per_hour IS NOT NULL THEN round(p.delivery_mcg_per_hour * v.transdermal_mme_per_mcg_h, 4)
        ELSE round(p.strength_mg_per_unit * d.quantity_units / d.days_supply * v.me_factor, 4)
    END
    FROM products p
    JOIN countries c ON c.code = d.country_code
    LEFT JOIN LATERAL (
        SELECT r.me_factor, r.transdermal_mme_per_mcg_h
        FROM substance_reference_values r
        WHERE r.substance_id = p.substance_id AND r.effective_from <= (d.dispensed_at AT TIME ZONE c.time_zone)::date
        ORDER BY r.effective_from DESC, r.id DESC
        LIMIT 1) v ON true
    WHERE p.id = d.product_id);
ALTER TABLE dispensings ENABLE TRIGGER dispensings_append_only;
