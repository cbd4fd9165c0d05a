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
use diesel::sql_types::{BigInt, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::rules::{FacilityRecords, Finding, ScanContext};

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

/// One statement: the orders from the baseline window to the period's end with the time
/// since the previous order of the same facility and product (a window function; `/*orders*/`
/// is [`ALL_ORDERS`] or [`ORDERS_OF_PAIRS`]), aggregated per pair into the sorted baseline
/// intervals and the shortest interval in the period; the exact median of the baseline; then,
/// for the pairs flagged only, the short intervals themselves (through the ledger's timeline
/// index). Reversed entries are found through the small index of reversals.
const SQL: &str = include_str!("unusual_order_frequency.sql");

/// Long periods: every order of the country in one pass (the country/time index or a
/// sequential scan, one sort for the window).
const ALL_ORDERS: &str = include_str!("unusual_order_frequency_all_orders.sql");

/// Short periods (a daily scan): only the pairs with an order in the period, each read
/// through the ledger's timeline index.
const ORDERS_OF_PAIRS: &str = include_str!("unusual_order_frequency_orders_of_pairs.sql");

/// Periods up to this many days read only the pairs with an order in them.
const SHORT_PERIOD_DAYS: i64 = 31;

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let orders = if ctx.range.days() <= SHORT_PERIOD_DAYS { ORDERS_OF_PAIRS } else { ALL_ORDERS };
    let rows: Vec<FacilityRecords> = diesel::sql_query(SQL.replace("/*orders*/", orders))
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
            let n = r.details.as_array().map_or(0, Vec::len);
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                Severity::Low,
                format!("{n} order(s) less than {} × the usual interval after the previous one", params.ratio),
                json!({
                    "records": {"stock_events": r.ids},
                    "figures": {"intervals": r.details, "short_intervals": n, "product_ids": r.product_ids},
                    "thresholds": {"ratio": params.ratio, "baseline_days": params.baseline_days, "min_intervals": params.min_intervals},
                }),
            )
        })
        .collect())
}
