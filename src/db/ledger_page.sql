-- A page of one facility's ledger, newest first. The running balance of each product is
-- computed over the product's whole history first, then the page is filtered.
SELECT id, product_id, kind, delta_units, balance_after_units, occurred_at, recorded_at, recorded_by,
       reason, reverses_entry_id, import_authorization_id, transfer_id, count(*) OVER () AS total
FROM (
    SELECT e.*, (sum(delta_units) OVER (PARTITION BY product_id ORDER BY occurred_at, id))::bigint AS balance_after_units
    FROM ledger_entries e
    WHERE facility_id = $1 AND ($2::bigint IS NULL OR product_id = $2)
) e
WHERE ($3::text IS NULL OR kind = $3)
  AND ($4::timestamptz IS NULL OR occurred_at >= $4)
  AND ($5::timestamptz IS NULL OR occurred_at < $5)
ORDER BY occurred_at DESC, id DESC
OFFSET $6 LIMIT $7
