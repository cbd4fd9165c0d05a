-- Pairs of fills where the next starts while more than remaining_pct of the previous supply remains;
-- $1 = country, $2 = look-back start, $3 = from, $4 = to (exclusive), $5 = remaining_pct, $6 = slack seconds
-- per day of supply.
WITH ordered AS (
    SELECT d.patient_pseudonym, d.id, d.dispensed_at,
           lag(d.id) OVER w AS previous_id, lag(d.dispensed_at) OVER w AS previous_at,
           lag(d.days_supply) OVER w AS previous_days_supply
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $3 AND d.dispensed_at < $4
    WINDOW w AS (PARTITION BY d.patient_pseudonym ORDER BY d.dispensed_at, d.days_supply, d.id)),
candidates AS (
    SELECT o.* FROM ordered o
    WHERE o.previous_at IS NULL
       OR (o.previous_at <> o.dispensed_at
           AND o.dispensed_at < o.previous_at + o.previous_days_supply * ($6::float8 * interval '1 second'))),
pairs AS (
    SELECT c.patient_pseudonym, c.id, c.dispensed_at,
           coalesce(c.previous_id, p.id) AS previous_id,
           coalesce(c.previous_at, p.dispensed_at) AS previous_at,
           coalesce(c.previous_days_supply, p.days_supply) AS previous_days_supply
    FROM candidates c
    LEFT JOIN LATERAL (
        SELECT x.id, x.dispensed_at, x.days_supply FROM counted_dispensings x
        WHERE c.previous_at IS NULL AND x.country_code = $1 AND x.patient_pseudonym = c.patient_pseudonym
          AND x.dispensed_at >= $2 AND x.dispensed_at < $3
        ORDER BY x.dispensed_at DESC, x.days_supply DESC, x.id DESC LIMIT 1) p ON true)
SELECT patient_pseudonym, previous_id, id AS next_id, previous_at, previous_days_supply, dispensed_at AS next_at, remaining
FROM (
    SELECT q.*, extract(epoch FROM q.previous_at + q.previous_days_supply * interval '86400 seconds' - q.dispensed_at)
                / (q.previous_days_supply * 86400) AS remaining
    FROM pairs q
    WHERE q.previous_at + q.previous_days_supply * interval '86400 seconds' > q.dispensed_at) f
WHERE f.remaining * 100 > $5::numeric
ORDER BY patient_pseudonym, dispensed_at
