//! `unusual_order_frequency`: a facility ordered a product much more often than it usually
//! does.
//!
//! Per facility and product, receipts (`receipt`, `import_receipt`, `transfer_in` entries
//! that were not reversed) are orders. The baseline is the median interval between
//! consecutive orders in the `baseline_days` days before the period (at least
//! `min_intervals` intervals). An order in the period that came less than `ratio` × that
//! median after the previous order (which may lie before the period) is flagged. One finding
//! per facility lists its short intervals. Intervals are exact (seconds as SQL `numeric`).
//!
//! Severity: `low`: frequent small orders can split a large one below notice, but they also
//! follow from ordinary changes in demand or supply.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// An interval shorter than this fraction of the baseline median is flagged.
    pub ratio: Decimal,
    /// Days before the period whose orders make the baseline.
    pub baseline_days: i64,
    /// Intervals the baseline needs to count.
    pub min_intervals: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { ratio: Decimal(bigdecimal::BigDecimal::new(3333.into(), 4)), baseline_days: 180, min_intervals: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.ratio <= Decimal::zero() || self.ratio > Decimal::from(1) {
            return Err("ratio must be above 0 and at most 1".into());
        }
        if !(1..=3660).contains(&self.baseline_days) {
            return Err("baseline_days must be between 1 and 3660".into());
        }
        if self.min_intervals < 1 {
            return Err("min_intervals must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    facility_id: i64,
    #[diesel(sql_type = BigInt)]
    region_id: i64,
    #[diesel(sql_type = Jsonb)]
    intervals: Value,
    #[diesel(sql_type = Array<BigInt>)]
    event_ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    product_ids: Vec<i64>,
}

/// One statement: the orders from the baseline window to the period's end with the time
/// since the previous order of the same facility and product (a window function; `/*orders*/`
/// is [`ALL_ORDERS`] or [`ORDERS_OF_PAIRS`]), aggregated per pair into the sorted baseline
/// intervals and the shortest interval in the period; the exact median of the baseline; then,
/// for the pairs flagged only, the short intervals themselves (through the ledger's timeline
/// index). Reversed entries are found through the small index of reversals.
const SQL: &str = "\
WITH reversed AS (SELECT r.reverses_entry_id AS id FROM stock_events r WHERE r.reverses_entry_id IS NOT NULL), \
o AS (/*orders*/), \
agg AS ( \
    SELECT facility_id, product_id, count(*) FILTER (WHERE occurred_at < $2) AS n, \
           array_agg(secs ORDER BY secs) FILTER (WHERE occurred_at < $2) AS s, \
           min(secs) FILTER (WHERE occurred_at >= $2) AS shortest \
    FROM o WHERE secs IS NOT NULL GROUP BY facility_id, product_id), \
flagged AS ( \
    SELECT g.facility_id, g.product_id, g.n, g.median FROM ( \
        SELECT a.*, (a.s[(a.n::int + 1) / 2] + a.s[a.n::int / 2 + 1]) / 2 AS median FROM agg a WHERE a.n >= $5) g \
    WHERE g.median > 0 AND g.shortest < $6 * g.median), \
hit AS ( \
    SELECT fl.facility_id, fl.product_id, fl.n, fl.median, y.id, y.prev_id, y.occurred_at, y.prev_at, y.secs \
    FROM flagged fl CROSS JOIN LATERAL ( \
        SELECT e.id, e.occurred_at, lag(e.id) OVER v AS prev_id, lag(e.occurred_at) OVER v AS prev_at, \
               extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER v) AS secs \
        FROM stock_events e \
        WHERE e.facility_id = fl.facility_id AND e.product_id = fl.product_id \
          AND e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
          AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3 \
          AND e.id NOT IN (SELECT id FROM reversed) \
        WINDOW v AS (ORDER BY e.occurred_at, e.id)) y \
    WHERE y.occurred_at >= $2 AND y.secs < $6 * fl.median) \
SELECT h.facility_id, f.region_id, \
       jsonb_agg(jsonb_build_object('product_id', h.product_id, 'order_id', h.id, 'previous_order_id', h.prev_id, \
           'ordered_at', h.occurred_at, 'previous_ordered_at', h.prev_at, \
           'interval_days', trim_scale(round(h.secs / 86400, 2)), \
           'baseline_median_days', trim_scale(round(h.median / 86400, 2)), 'baseline_intervals', h.n, \
           'ratio', trim_scale(round(h.secs / h.median, 4))) ORDER BY h.product_id, h.occurred_at, h.id) AS intervals, \
       (SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(array_agg(h.id) || array_agg(h.prev_id)) x) AS event_ids, \
       array_agg(DISTINCT h.product_id) AS product_ids \
FROM hit h JOIN facilities f ON f.id = h.facility_id \
GROUP BY h.facility_id, f.region_id ORDER BY h.facility_id";

/// Long periods: every order of the country in one pass (the country/time index or a
/// sequential scan, one sort for the window).
const ALL_ORDERS: &str = "\
    SELECT e.facility_id, e.product_id, e.occurred_at, \
           extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER w) AS secs \
    FROM stock_events e \
    WHERE e.country_code = $1 AND e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
      AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3 \
      AND e.id NOT IN (SELECT id FROM reversed) \
    WINDOW w AS (PARTITION BY e.facility_id, e.product_id ORDER BY e.occurred_at, e.id)";

/// Short periods (a daily scan): only the pairs with an order in the period, each read
/// through the ledger's timeline index.
const ORDERS_OF_PAIRS: &str = "\
    SELECT p.facility_id, p.product_id, y.occurred_at, y.secs \
    FROM (SELECT DISTINCT e.facility_id, e.product_id FROM stock_events e \
          WHERE e.country_code = $1 AND e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
            AND e.occurred_at >= $2 AND e.occurred_at < $3) p \
    CROSS JOIN LATERAL ( \
        SELECT e.occurred_at, extract(epoch FROM e.occurred_at - lag(e.occurred_at) OVER (ORDER BY e.occurred_at, e.id)) AS secs \
        FROM stock_events e \
        WHERE e.facility_id = p.facility_id AND e.product_id = p.product_id \
          AND e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
          AND e.occurred_at >= $2 - make_interval(days => $4::int) AND e.occurred_at < $3 \
          AND e.id NOT IN (SELECT id FROM reversed)) y";

/// Periods up to this many days read only the pairs with an order in them.
const SHORT_PERIOD_DAYS: i64 = 31;

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let orders = if ctx.range.days() <= SHORT_PERIOD_DAYS { ORDERS_OF_PAIRS } else { ALL_ORDERS };
    let rows: Vec<Row> = diesel::sql_query(SQL.replace("/*orders*/", orders))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<BigInt, _>(params.baseline_days)
        .bind::<BigInt, _>(params.min_intervals)
        .bind::<Numeric, _>(&params.ratio.0)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = r.intervals.as_array().map_or(0, Vec::len);
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                Severity::Low,
                format!("{n} order(s) less than {} × the usual interval after the previous one", params.ratio),
                json!({
                    "records": {"stock_events": r.event_ids},
                    "figures": {"intervals": r.intervals, "short_intervals": n, "product_ids": r.product_ids},
                    "thresholds": {"ratio": params.ratio, "baseline_days": params.baseline_days, "min_intervals": params.min_intervals},
                }),
            )
        })
        .collect())
}
