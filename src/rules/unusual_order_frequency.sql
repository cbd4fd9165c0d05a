-- Per facility, its orders much sooner after the previous one than usual: event ids, products and the short
-- intervals (details, JSON); $1 = country, $2 = from, $3 = to (exclusive), $4 = baseline_days,
-- $5 = min_intervals, $6 = ratio; the orders marker stands for unusual_order_frequency_all_orders.sql or
-- unusual_order_frequency_orders_of_pairs.sql.
WITH reversed AS (SELECT r.reverses_entry_id AS id FROM stock_events r WHERE r.reverses_entry_id IS NOT NULL),
o AS (/*orders*/),
agg AS (
    SELECT facility_id, product_id, count(*) FILTER (WHERE occurred_at < $2) AS n,
           array_agg(secs ORDER BY secs) FILTER (WHERE occurred_at < $2) AS s,
           min(secs) FILTER (WHERE occurred_at >= $2) AS shortest
    FROM o WHERE secs IS NOT NULL GROUP BY facility_id, product_id),
flagged AS (
    SELECT g.facility_id, g.product_id, g.n, g.median FROM (
        SELECT a.*, (a.s[(a.n::int + 1) / 2] + a.s[a.n::int / 2 + 1]) / 2 AS median FROM agg a WHERE a.n >= $5) g
    WHERE g.median > 0 AND g.shortest < $6 * g.median),
hit AS (
    SELECT fl.facility_id, fl.product_id, fl.n, fl.median, y.id, y.prev_id, y.occurred_at, y.prev_at, y.secs
    FROM flagged fl CROSS JOIN LATERAL (
        SELECT e.id, e.occurred_at, lag(e.id) OVER v AS prev_id, lag(e.occurred_at) OVER v AS prev_at,
               extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER v) AS secs
        FROM stock_events e
        WHERE e.facility_id = fl.facility_id AND e.product_id = fl.product_id
          AND e.kind IN ('receipt', 'import_receipt', 'transfer_in')
          AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3
          AND e.id NOT IN (SELECT id FROM reversed)
        WINDOW v AS (ORDER BY e.occurred_at, e.id)) y
    WHERE y.occurred_at >= $2 AND y.secs < $6 * fl.median)
SELECT h.facility_id, f.region_id,
       jsonb_agg(jsonb_build_object('product_id', h.product_id, 'order_id', h.id, 'previous_order_id', h.prev_id,
           'ordered_at', h.occurred_at, 'previous_ordered_at', h.prev_at,
           'interval_days', trim_scale(round(h.secs / 86400, 2)),
           'baseline_median_days', trim_scale(round(h.median / 86400, 2)), 'baseline_intervals', h.n,
           'ratio', trim_scale(round(h.secs / h.median, 4))) ORDER BY h.product_id, h.occurred_at, h.id) AS details,
       (SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(array_agg(h.id) || array_agg(h.prev_id)) x) AS ids,
       array_agg(DISTINCT h.product_id) AS product_ids
FROM hit h JOIN facilities f ON f.id = h.facility_id
GROUP BY h.facility_id, f.region_id ORDER BY h.facility_id
