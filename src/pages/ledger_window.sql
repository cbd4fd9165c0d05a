-- The newest entries of one facility's ledger ($1) in [$2, $3), at most $4, newest first, each
-- with the balance after it (as `ledger::page` answers them with a from and a to). The balance
-- just before $3 is the balance now less what came at or after $3: from `facility_monthly`
-- for the months from $5 (the first day of the month after $3's, in the country's time) on,
-- and entry by entry from $3 to $6 (that month's first instant). Reads the window's newest
-- entries of each product along its timeline indexes, never the facility's whole history.
WITH before_to AS (
    SELECT b.product_id,
           b.balance_units
           - coalesce((SELECT sum(m.units) FROM facility_monthly m
                       WHERE m.facility_id = $1 AND m.product_id = b.product_id AND m.month >= $5), 0)
           - coalesce((SELECT sum(s.delta_units) FROM stock_events s
                       WHERE s.facility_id = $1 AND s.product_id = b.product_id AND s.occurred_at >= $3 AND s.occurred_at < $6), 0)
           + coalesce((SELECT sum(d.quantity_units) FROM dispensings d
                       WHERE d.facility_id = $1 AND d.product_id = b.product_id AND d.dispensed_at >= $3 AND d.dispensed_at < $6), 0)
           AS units
    FROM stock_balances b
    WHERE b.facility_id = $1
),
recent AS (
    SELECT e.*
    FROM stock_balances b
    CROSS JOIN LATERAL (
        (SELECT s.id, s.product_id, s.kind, s.delta_units, s.occurred_at, s.recorded_at, s.recorded_by,
                s.reason, s.reverses_entry_id, s.import_authorization_id, s.transfer_id
         FROM stock_events s
         WHERE s.facility_id = b.facility_id AND s.product_id = b.product_id AND s.occurred_at >= $2 AND s.occurred_at < $3
         ORDER BY s.occurred_at DESC, s.id DESC LIMIT $4)
        UNION ALL
        (SELECT d.id, d.product_id, 'dispense', -d.quantity_units, d.dispensed_at, d.recorded_at, d.recorded_by,
                NULL, NULL, NULL, NULL
         FROM dispensings d
         WHERE d.facility_id = b.facility_id AND d.product_id = b.product_id AND d.dispensed_at >= $2 AND d.dispensed_at < $3
         ORDER BY d.dispensed_at DESC, d.id DESC LIMIT $4)
    ) e
    WHERE b.facility_id = $1
    ORDER BY e.occurred_at DESC, e.id DESC
    LIMIT $4
)
SELECT r.id, r.product_id, r.kind, r.delta_units,
       (t.units - coalesce(sum(r.delta_units) OVER (PARTITION BY r.product_id ORDER BY r.occurred_at DESC, r.id DESC
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::bigint AS balance_after_units,
       r.occurred_at, r.recorded_at, r.recorded_by, r.reason, r.reverses_entry_id, r.import_authorization_id, r.transfer_id,
       0::bigint AS total
FROM recent r
JOIN before_to t ON t.product_id = r.product_id
ORDER BY r.occurred_at DESC, r.id DESC
