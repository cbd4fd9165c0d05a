-- Per retail facility, its products at zero since before a cutoff and since when; $1 = country, $2 = cutoff.
SELECT b.facility_id, f.region_id, array_agg(b.product_id ORDER BY b.product_id) AS product_ids,
       array_agg(b.zero_since ORDER BY b.product_id) AS zero_since
FROM stock_balances b JOIN facilities f ON f.id = b.facility_id
WHERE b.country_code = $1 AND b.balance_units = 0 AND b.zero_since IS NOT NULL AND b.zero_since < $2
  AND f.kind IN ('pharmacy', 'hospital')
GROUP BY b.facility_id, f.region_id
