//! `unusual_order_size`: a facility received far more of a product in a month than it
//! usually does.
//!
//! Per facility, product and month overlapping the period (the finding's period is that
//! month), the month's receipts (`facility_monthly` buckets `receipt`, `import_receipt`,
//! `transfer_in`) are compared with the median of the prior `baseline_months` months, months
//! without receipts counting as 0. A month above `factor` × that median is flagged when at
//! least `min_history` of the baseline months had receipts and the median is positive. One
//! finding per facility and month lists its products. When the period covers its months
//! only in part (a daily scan), only the facility/product pairs with receipts in the period
//! are evaluated: the others' month totals did not change in it.
//!
//! Severity: `medium`: a statistical signal that asks for an explanation (an epidemic, a new
//! ward), not evidence of diversion by itself.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::ids::{FacilityId, LedgerEntryId, RegionId};
use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::domain::period::Month;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A month's receipts above this multiple of the baseline median are flagged.
    pub factor: Decimal,
    /// Months before the month that make its baseline.
    pub baseline_months: i64,
    /// Baseline months that must have had receipts for the baseline to count.
    pub min_history: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { factor: Decimal::from(3), baseline_months: 6, min_history: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.factor < Decimal::from(1) {
            return Err("factor must be at least 1".into());
        }
        if !(1..=36).contains(&self.baseline_months) {
            return Err("baseline_months must be between 1 and 36".into());
        }
        if self.min_history < 1 || self.min_history > self.baseline_months {
            return Err("min_history must be between 1 and baseline_months".into());
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
    #[diesel(sql_type = Date)]
    month: NaiveDate,
    #[diesel(sql_type = Jsonb)]
    products: Value,
    #[diesel(sql_type = Array<BigInt>)]
    event_ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = Numeric)]
    max_ratio: bigdecimal::BigDecimal,
}

/// One statement over the maintained `facility_monthly` aggregate: the country's monthly
/// receipts from the first baseline month to the last month; per facility/product and month
/// the months with receipts among the prior `baseline_months` (a window over a date range,
/// so months without receipts need no rows: they are the zeros), a cheap necessary condition
/// (above `factor` × the smallest baseline value), then the exact median of the few left;
/// finally the baseline and the receipt entries of the months flagged.
///
/// `/*pairs*/` restricts the facility/product pairs to those with receipts (or reversed
/// receipts) in the period, used when the period covers its months only in part: a month's
/// total changed only through them.
const SQL: &str = include_str!("unusual_order_size.sql");

/// The pairs with receipt entries, or reversals of receipts, in `[$7, $8)`.
const PAIRS: &str = include_str!("unusual_order_size_pairs.sql");

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let first = Month::of(ctx.range.from);
    let last = Month::of(ctx.range.to);
    let whole_months = ctx.range.from == first.first_day() && ctx.range.to == last.last_day();
    let sql = SQL.replace("/*pairs*/", if whole_months { "" } else { PAIRS });
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(&ctx.country)
        .bind::<Date, _>(first.first_day())
        .bind::<Date, _>(last.first_day())
        .bind::<BigInt, _>(params.baseline_months)
        .bind::<BigInt, _>(params.min_history)
        .bind::<Numeric, _>(&params.factor.0)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let month = Month::of(r.month);
            let n = r.products.as_array().map_or(0, Vec::len);
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                Severity::Medium,
                format!(
                    "{}: receipts of {n} product(s) up to {} × the median of the prior {} months",
                    month.label(),
                    Decimal(r.max_ratio.clone()),
                    params.baseline_months
                ),
                json!({
                    "records": {"stock_events": r.event_ids},
                    "figures": {"month": month.label(), "products": r.products, "max_ratio": Decimal(r.max_ratio)},
                    "thresholds": {"factor": params.factor, "baseline_months": params.baseline_months, "min_history": params.min_history},
                }),
            )
            .during(month.first_day(), month.last_day())
        })
        .collect())
}
