-- Marks no_longer_found by scan $3 the open and under-review flags of country $1 and rule $2 whose last
-- finding scan covered the same period as scan $3 but is not scan $3; returns each flag's id and former status.
WITH lost AS (
    SELECT f.id, f.status
    FROM flags f
    JOIN scans prev ON prev.id = f.last_scan_id
    JOIN scans cur ON cur.id = $3
    WHERE f.country_code = $1 AND f.rule_code = $2 AND f.last_scan_id <> $3
      AND f.status IN ('open', 'under_review')
      AND (prev.period_from, prev.period_to) = (cur.period_from, cur.period_to)
    FOR UPDATE OF f)
UPDATE flags SET status = 'no_longer_found', no_longer_found_scan_id = $3, updated_at = now()
FROM lost WHERE flags.id = lost.id
RETURNING flags.id, lost.status AS from_status
