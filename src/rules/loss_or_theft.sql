-- Facilities with an unreversed theft, or large or repeated losses: theft, loss and window ids and units,
-- throughput, products; $1 = country, $2 = from, $3 = to (exclusive), $4 = window_days, $5 = loss_pct,
-- $6 = loss_events, $7 = first whole month, $8 = the month after the last, $9 and $10 = $7 and $8 as
-- timestamps.
WITH ev AS (
    SELECT e.id, e.facility_id, e.product_id, e.kind, -e.delta_units AS units, e.occurred_at >= $2 AS in_period,
           e.occurred_at >= $3 - make_interval(days => $4::int) AS in_window
    FROM stock_events e
    WHERE e.country_code = $1 AND e.kind IN ('loss', 'theft')
      AND e.occurred_at >= LEAST($2, $3 - make_interval(days => $4::int)) AND e.occurred_at < $3
      AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = e.id)),
per AS (
    SELECT facility_id,
           coalesce(array_agg(id ORDER BY id) FILTER (WHERE kind = 'theft' AND in_period), '{}') AS theft_ids,
           coalesce(sum(units) FILTER (WHERE kind = 'theft' AND in_period), 0)::bigint AS theft_units,
           coalesce(array_agg(id ORDER BY id) FILTER (WHERE kind = 'loss' AND in_period), '{}') AS loss_ids,
           coalesce(sum(units) FILTER (WHERE kind = 'loss' AND in_period), 0)::bigint AS loss_units,
           coalesce(array_agg(id ORDER BY id) FILTER (WHERE kind = 'loss' AND in_window), '{}') AS window_loss_ids,
           coalesce(array_agg(DISTINCT product_id) FILTER (WHERE in_period OR kind = 'loss'), '{}') AS product_ids
    FROM ev GROUP BY facility_id),
tp AS (
    SELECT x.facility_id, sum(x.units)::bigint AS units FROM (
        SELECT fm.facility_id, fm.units FROM facility_monthly fm JOIN per p ON p.facility_id = fm.facility_id
        WHERE fm.bucket IN ('receipt', 'import_receipt', 'transfer_in') AND fm.month >= $7::date AND fm.month < $8::date
        UNION ALL
        SELECT e.facility_id, e.delta_units FROM stock_events e JOIN per p ON p.facility_id = e.facility_id
        WHERE e.country_code = $1
          AND (e.kind IN ('receipt', 'import_receipt', 'transfer_in')
               OR (e.kind = 'reversal' AND e.reversed_kind IN ('receipt', 'import_receipt', 'transfer_in')))
          AND ((e.occurred_at >= $2 AND e.occurred_at < $9) OR (e.occurred_at >= $10 AND e.occurred_at < $3))) x
    GROUP BY x.facility_id)
SELECT p.facility_id, f.region_id, p.theft_ids, p.theft_units, p.loss_ids, p.loss_units, p.window_loss_ids,
       coalesce(tp.units, 0) AS throughput_units, p.product_ids
FROM per p JOIN facilities f ON f.id = p.facility_id LEFT JOIN tp ON tp.facility_id = p.facility_id
WHERE cardinality(p.theft_ids) > 0
   OR (p.loss_units > 0 AND p.loss_units::numeric * 100 > $5 * coalesce(tp.units, 0))
   OR cardinality(p.window_loss_ids) >= $6
ORDER BY p.facility_id
