-- Per facility and month, its products received far above the baseline median: products (JSON), event ids,
-- largest ratio; $1 = country, $2 = first month, $3 = last month (first days), $4 = baseline_months,
-- $5 = min_history, $6 = factor, $7 = from, $8 = to (exclusive); the pairs marker stands for nothing or
-- unusual_order_size_pairs.sql.
WITH monthly AS (
    SELECT fm.facility_id, fm.product_id, fm.month, sum(fm.units)::bigint AS units
    FROM facility_monthly fm JOIN facilities f ON f.id = fm.facility_id
    WHERE f.country_code = $1 AND fm.bucket IN ('receipt', 'import_receipt', 'transfer_in')
      AND fm.month >= ($2::date - make_interval(months => $4::int))::date AND fm.month <= $3::date /*pairs*/
    GROUP BY fm.facility_id, fm.product_id, fm.month),
win AS (
    SELECT m.facility_id, m.product_id, m.month, m.units,
           coalesce(array_agg(m.units) FILTER (WHERE m.units <> 0) OVER w, '{}') AS prior,
           count(*) FILTER (WHERE m.units > 0) OVER w AS history,
           min(m.units) FILTER (WHERE m.units <> 0) OVER w AS least
    FROM monthly m
    WINDOW w AS (PARTITION BY m.facility_id, m.product_id ORDER BY m.month
                 RANGE BETWEEN make_interval(months => $4::int) PRECEDING AND interval '1 day' PRECEDING)),
cand AS (
    SELECT w.facility_id, w.product_id, w.month, w.units, w.history, q.median
    FROM win w CROSS JOIN LATERAL (
        SELECT trim_scale((z.s[($4::int + 1) / 2] + z.s[$4::int / 2 + 1])::numeric / 2) AS median
        FROM (SELECT array_agg(v ORDER BY v) AS s
              FROM unnest(array_fill(0::bigint, ARRAY[$4::int - cardinality(w.prior)]) || w.prior) v) z) q
    WHERE w.month >= $2::date AND w.units > 0 AND w.history >= $5
      AND w.units > $6 * CASE WHEN cardinality(w.prior) < $4 THEN LEAST(w.least, 0) ELSE w.least END),
hit AS (
    SELECT c.*,
           (SELECT jsonb_agg(jsonb_build_object('month', to_char(c.month - make_interval(months => k), 'YYYY-MM'), 'units',
                coalesce((SELECT sum(fm.units) FROM facility_monthly fm
                          WHERE fm.facility_id = c.facility_id AND fm.product_id = c.product_id
                            AND fm.month = (c.month - make_interval(months => k))::date
                            AND fm.bucket IN ('receipt', 'import_receipt', 'transfer_in')), 0)) ORDER BY k DESC)
            FROM generate_series(1, $4::int) k) AS baseline
    FROM cand c WHERE c.median > 0 AND c.units > $6 * c.median),
ev AS (
    SELECT h.facility_id, h.month, e.id FROM hit h JOIN stock_events e
      ON e.facility_id = h.facility_id AND e.product_id = h.product_id
     AND e.occurred_at >= h.month::timestamp AT TIME ZONE $9
     AND e.occurred_at < (h.month + interval '1 month')::timestamp AT TIME ZONE $9
    WHERE e.kind IN ('receipt', 'import_receipt', 'transfer_in')
      AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = e.id)),
ids AS (SELECT facility_id, month, array_agg(id ORDER BY id) AS event_ids FROM ev GROUP BY facility_id, month)
SELECT h.facility_id, f.region_id, h.month,
       jsonb_agg(jsonb_build_object('product_id', h.product_id, 'units', h.units, 'median', h.median,
           'ratio', trim_scale(round(h.units / h.median, 2)), 'months_with_receipts', h.history, 'baseline', h.baseline)
           ORDER BY h.product_id) AS products,
       coalesce(min(ids.event_ids), '{}') AS event_ids, trim_scale(max(round(h.units / h.median, 2))) AS max_ratio
FROM hit h JOIN facilities f ON f.id = h.facility_id
LEFT JOIN ids ON ids.facility_id = h.facility_id AND ids.month = h.month
GROUP BY h.facility_id, f.region_id, h.month ORDER BY h.month, h.facility_id
