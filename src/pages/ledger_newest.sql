-- The newest entries of one facility's ledger ($1), at most $2, newest first, each with the
-- balance after it: the product's balance now less the entries after it, which are all among
-- the newest themselves. Each product's newest entries are read along its timeline indexes.
WITH recent AS (
    SELECT e.*
    FROM stock_balances b
    CROSS JOIN LATERAL (
        (SELECT s.id, s.product_id, s.kind, s.delta_units, s.occurred_at, s.recorded_at, s.recorded_by,
                s.reason, s.reverses_entry_id, s.import_authorization_id, s.transfer_id
         FROM stock_events s WHERE s.facility_id = b.facility_id AND s.product_id = b.product_id
         ORDER BY s.occurred_at DESC, s.id DESC LIMIT $2)
        UNION ALL
        (SELECT d.id, d.product_id, 'dispense', -d.quantity_units, d.dispensed_at, d.recorded_at, d.recorded_by,
                NULL, NULL, NULL, NULL
         FROM dispensings d WHERE d.facility_id = b.facility_id AND d.product_id = b.product_id
         ORDER BY d.dispensed_at DESC, d.id DESC LIMIT $2)
    ) e
    WHERE b.facility_id = $1
    ORDER BY e.occurred_at DESC, e.id DESC
    LIMIT $2
)
SELECT r.id, r.product_id, r.kind, r.delta_units,
       (b.balance_units - coalesce(sum(r.delta_units) OVER (PARTITION BY r.product_id ORDER BY r.occurred_at DESC, r.id DESC
                                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::bigint AS balance_after_units,
       r.occurred_at, r.recorded_at, r.recorded_by, r.reason, r.reverses_entry_id, r.import_authorization_id, r.transfer_id,
       0::bigint AS total
FROM recent r
JOIN stock_balances b ON b.facility_id = $1 AND b.product_id = r.product_id
ORDER BY r.occurred_at DESC, r.id DESC
