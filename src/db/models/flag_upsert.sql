-- Inserts flags, or refreshes the flag of the same country, rule, subject and period (a
-- `no_longer_found` one becomes `open` again); returns each flag's id, whether it is new,
-- whether an existing one changed, and whether it was found again (all parts of the
-- statement see the table as it was before it).
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::bigint[], $9::bigint[], $10::date[], $11::date[], $12::text[], $13::text[],
                         $14::jsonb[], $15::jsonb[], $16::bigint[])
        AS t(country_code, rule_code, rule_version, category, mode, subject_type, subject_id, facility_id, region_id,
             period_from, period_to, severity, title, params, evidence, scan_id)
),
before AS (
    SELECT f.id, f.evidence, f.severity, f.rule_version, f.status
    FROM flags f
    JOIN input i ON (f.country_code, f.rule_code, f.subject_type, f.subject_id, f.period_from, f.period_to)
                  = (i.country_code, i.rule_code, i.subject_type, i.subject_id, i.period_from, i.period_to)
),
written AS (
    INSERT INTO flags (country_code, rule_code, rule_version, category, mode, subject_type, subject_id, facility_id,
                       region_id, period_from, period_to, severity, title, params, evidence, first_scan_id, last_scan_id)
    SELECT country_code, rule_code, rule_version, category, mode, subject_type, subject_id, facility_id, region_id,
           period_from, period_to, severity, title, params, evidence, scan_id, scan_id
    FROM input
    ON CONFLICT (country_code, rule_code, subject_type, subject_id, period_from, period_to) DO UPDATE SET
        rule_version = EXCLUDED.rule_version, mode = EXCLUDED.mode, severity = EXCLUDED.severity, title = EXCLUDED.title,
        params = EXCLUDED.params, evidence = EXCLUDED.evidence, last_scan_id = EXCLUDED.last_scan_id, updated_at = now(),
        status = CASE WHEN flags.status = 'no_longer_found' THEN 'open' ELSE flags.status END,
        -- The scan writing the flag found it: no scan stopped finding it, whatever its review state.
        no_longer_found_scan_id = NULL
    RETURNING id, (xmax = 0) AS inserted, evidence, severity, rule_version
)
SELECT w.id, w.inserted,
       (b.id IS NOT NULL AND (b.evidence <> w.evidence OR b.severity <> w.severity OR b.rule_version <> w.rule_version)) AS changed,
       coalesce(b.status = 'no_longer_found', false) AS found_again
FROM written w LEFT JOIN before b ON b.id = w.id
