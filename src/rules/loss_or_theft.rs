//! `loss_or_theft`: a facility recorded a theft, or losses that are large or repeated.
//!
//! Per facility, only entries that were not reversed count:
//! - any `theft` entry in the period → `high`;
//! - `loss` entries in the period whose units exceed `loss_pct` percent of the period's
//!   throughput (units received: `receipt`, `import_receipt`, `transfer_in`), or at least
//!   `loss_events` loss entries within the `window_days` days ending at the period's end
//!   → `medium`.
//!
//! The throughput is the period's net receipts: a receipt reversed within the period counts
//! nothing (a reversal counts negated under the kind it reverses, as in `facility_monthly`).

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, LedgerEntryId, ProductId, RegionId};
use crate::db::enums::Severity;
use crate::db::reports::flows::DateRange;
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Losses in the period above this percentage of the period's throughput are flagged.
    pub loss_pct: Decimal,
    /// This many loss entries within `window_days` are flagged, whatever their size.
    pub loss_events: i64,
    /// The window, in days ending at the period's end, in which loss entries are counted.
    pub window_days: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { loss_pct: Decimal::from(1), loss_events: 3, window_days: 90 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.loss_pct < Decimal::zero() || self.loss_pct > Decimal::from(100) {
            return Err("loss_pct must be between 0 and 100".into());
        }
        if self.loss_events < 1 {
            return Err("loss_events must be at least 1".into());
        }
        if !(1..=3660).contains(&self.window_days) {
            return Err("window_days must be between 1 and 3660".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
    #[diesel(sql_type = BigInt)]
    region_id: RegionId,
    #[diesel(sql_type = Array<BigInt>)]
    theft_ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = BigInt)]
    theft_units: i64,
    #[diesel(sql_type = Array<BigInt>)]
    loss_ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = BigInt)]
    loss_units: i64,
    #[diesel(sql_type = Array<BigInt>)]
    window_loss_ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = BigInt)]
    throughput_units: i64,
    #[diesel(sql_type = Array<BigInt>)]
    product_ids: Vec<ProductId>,
}

/// One statement: the (unreversed) thefts and losses of the period and of the window, per
/// facility, then the throughput of just those facilities: net receipts (a reversal counts
/// negated under the kind it reverses), from `facility_monthly` for the period's whole
/// months and from the ledger for the days before and after them.
const SQL: &str = include_str!("loss_or_theft.sql");

/// The whole months inside the range as `[first day, day after)`; `(to + 1, to + 1)` when
/// it holds none. The range's days outside them are read from the ledger.
fn whole_months(range: &DateRange) -> (NaiveDate, NaiveDate) {
    match range.whole_months() {
        Some((first, last)) => (first.first_day(), last.next().first_day()),
        None => (range.to + Duration::days(1), range.to + Duration::days(1)),
    }
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let whole = whole_months(&ctx.range);
    let rows: Vec<Row> = diesel::sql_query(SQL)
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<BigInt, _>(params.window_days)
        .bind::<Numeric, _>(&params.loss_pct.0)
        .bind::<BigInt, _>(params.loss_events)
        .bind::<Date, _>(whole.0)
        .bind::<Date, _>(whole.1)
        .bind::<Timestamptz, _>(ctx.range.midnight(whole.0))
        .bind::<Timestamptz, _>(ctx.range.midnight(whole.1))
        .load(conn)?;
    let hundred = bigdecimal::BigDecimal::from(100);
    Ok(rows
        .into_iter()
        .map(|r| {
            let large = r.loss_units > 0 && bigdecimal::BigDecimal::from(r.loss_units) * &hundred > &params.loss_pct.0 * bigdecimal::BigDecimal::from(r.throughput_units);
            let repeated = r.window_loss_ids.len() as i64 >= params.loss_events;
            let theft = !r.theft_ids.is_empty();
            let loss_pct = (r.throughput_units > 0).then(|| Decimal(bigdecimal::BigDecimal::from(r.loss_units) * &hundred / bigdecimal::BigDecimal::from(r.throughput_units)).round(2));
            let mut reasons = Vec::new();
            if theft {
                reasons.push(format!("{} theft(s) of {} units", r.theft_ids.len(), r.theft_units));
            }
            if large {
                reasons.push(format!("losses of {} units against {} received", r.loss_units, r.throughput_units));
            }
            if repeated {
                reasons.push(format!("{} losses within {} days", r.window_loss_ids.len(), params.window_days));
            }
            let mut ids: Vec<LedgerEntryId> = r.theft_ids.iter().chain(&r.loss_ids).chain(&r.window_loss_ids).copied().collect();
            ids.sort_unstable();
            ids.dedup();
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if theft { Severity::High } else { Severity::Medium },
                reasons.join("; "),
                json!({
                    "records": {"stock_events": ids},
                    "figures": {
                        "theft_ids": r.theft_ids, "theft_units": r.theft_units,
                        "loss_ids": r.loss_ids, "loss_units": r.loss_units,
                        "throughput_units": r.throughput_units, "loss_pct_of_throughput": loss_pct,
                        "window_loss_ids": r.window_loss_ids, "window_losses": r.window_loss_ids.len(),
                        "large_losses": large, "repeated_losses": repeated,
                        "product_ids": r.product_ids,
                    },
                    "thresholds": {"loss_pct": params.loss_pct, "loss_events": params.loss_events, "window_days": params.window_days},
                }),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn whole_months_split_a_range() {
        let r = |a, b| DateRange { from: a, to: b, zone: chrono_tz::Tz::UTC };
        assert_eq!(whole_months(&r(day(2025, 1, 1), day(2025, 12, 31))), (day(2025, 1, 1), day(2026, 1, 1)));
        assert_eq!(whole_months(&r(day(2025, 1, 15), day(2025, 3, 31))), (day(2025, 2, 1), day(2025, 4, 1)));
        assert_eq!(whole_months(&r(day(2025, 1, 15), day(2025, 3, 30))), (day(2025, 2, 1), day(2025, 3, 1)));
        assert_eq!(whole_months(&r(day(2025, 1, 15), day(2025, 2, 27))), (day(2025, 2, 28), day(2025, 2, 28)));
        assert_eq!(whole_months(&r(day(2025, 3, 1), day(2025, 3, 1))), (day(2025, 3, 2), day(2025, 3, 2)));
    }
}
