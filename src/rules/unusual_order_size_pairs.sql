-- Fragment: only the facility/product pairs with receipts, or reversed receipts, in [$7, $8); $1 = country.
AND (fm.facility_id, fm.product_id) IN (
    SELECT e.facility_id, e.product_id FROM stock_events e
    WHERE e.country_code = $1 AND e.occurred_at >= $7 AND e.occurred_at < $8
      AND (e.kind IN ('receipt', 'import_receipt', 'transfer_in')
           OR e.reversed_kind IN ('receipt', 'import_receipt', 'transfer_in')))
