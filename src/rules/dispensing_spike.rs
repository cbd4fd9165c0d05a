//! `dispensing_spike`: a facility whose dispensing in a month is far above its own history.
//!
//! For every dispensing facility and every month overlapping the scan period, the month's
//! dispensed mass of base (the maintained `facility_monthly` aggregate: dispensed units net
//! of reversals × the product's mg of base per unit, summed over products, exact decimals)
//! is compared with the median of the facility's prior `baseline_months` months. Only months
//! in which the facility dispensed count towards the baseline (a facility that opened
//! recently, or closed for a while, is not judged against zeros), and at least
//! `min_history` of them are needed. A month above `factor` × the median is flagged with
//! that month as the flag's period (an ongoing month is judged on what it holds so far).
//!
//! Severity: `medium`; `high` when the month is above `high_factor` × the median.

use std::collections::BTreeMap;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{Months, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Numeric, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, LedgerEntryId, RegionId};
use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::domain::period::Month;
use crate::rules::{Finding, ScanContext};

/// Dispensing ids listed in the evidence of a flagged month (the largest by mass of base).
const LISTED_DISPENSINGS: i64 = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A month above `factor` × the baseline median is flagged.
    pub factor: f64,
    /// A month above `high_factor` × the baseline median is flagged `high`.
    pub high_factor: f64,
    /// Months before the evaluated month that make its baseline.
    pub baseline_months: u32,
    /// Baseline months with dispensing needed before a month is judged.
    pub min_history: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params { factor: 3.0, high_factor: 6.0, baseline_months: 6, min_history: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if !self.factor.is_finite() || self.factor <= 1.0 {
            return Err("factor must be a number above 1".into());
        }
        if !self.high_factor.is_finite() || self.high_factor < self.factor {
            return Err("high_factor must be at least factor".into());
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

/// An exact decimal of a threshold given as a JSON number.
fn exact(value: f64) -> BigDecimal {
    BigDecimal::from_str(&value.to_string()).unwrap_or_default()
}

#[derive(QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
    #[diesel(sql_type = BigInt)]
    region_id: RegionId,
    #[diesel(sql_type = Date)]
    month: NaiveDate,
    #[diesel(sql_type = Numeric)]
    base_mg: BigDecimal,
    #[diesel(sql_type = BigInt)]
    records: i64,
}

#[derive(QueryableByName)]
struct IdsRow {
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
    #[diesel(sql_type = Date)]
    month: NaiveDate,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<LedgerEntryId>,
}

/// The median of exact values (the mean of the middle two for an even count).
fn median(values: &[BigDecimal]) -> Option<BigDecimal> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2].clone()),
        _ => Some((&v[n / 2 - 1] + &v[n / 2]) / BigDecimal::from(2)),
    }
}

/// A facility's dispensed mass of base and dispensing count per month.
type History = BTreeMap<NaiveDate, (BigDecimal, i64)>;

struct Spike {
    facility_id: FacilityId,
    region_id: RegionId,
    month: NaiveDate,
    base_mg: BigDecimal,
    records: i64,
    baseline: Vec<(NaiveDate, BigDecimal)>,
    median: BigDecimal,
    high: bool,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let first = Month::of(ctx.range.from).first_day();
    let last = Month::of(ctx.range.to).first_day();
    let history_from = first.checked_sub_months(Months::new(params.baseline_months)).unwrap_or(first);
    // Each facility's dispensed mass of base per month, from the maintained aggregate.
    let rows: Vec<MonthRow> = diesel::sql_query(include_str!("dispensing_spike_months.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Date, _>(history_from)
        .bind::<Date, _>(last)
        .load(conn)?;

    let mut by_facility: BTreeMap<FacilityId, (RegionId, History)> = BTreeMap::new();
    for r in rows {
        by_facility.entry(r.facility_id).or_insert_with(|| (r.region_id, BTreeMap::new())).1.insert(r.month, (r.base_mg, r.records));
    }
    let zero = BigDecimal::from(0);
    let (factor, high_factor) = (exact(params.factor), exact(params.high_factor));
    let mut spikes = Vec::new();
    for (facility_id, (region_id, months)) in &by_facility {
        for (month, (base_mg, records)) in months.range(first..=last) {
            if *base_mg <= zero {
                continue;
            }
            let start = month.checked_sub_months(Months::new(params.baseline_months)).unwrap_or(*month);
            let baseline: Vec<(NaiveDate, BigDecimal)> =
                months.range(start..*month).filter(|(_, (mg, _))| *mg > zero).map(|(m, (mg, _))| (*m, mg.clone())).collect();
            if baseline.len() < params.min_history as usize {
                continue;
            }
            let values: Vec<BigDecimal> = baseline.iter().map(|(_, mg)| mg.clone()).collect();
            let Some(median) = median(&values) else { continue };
            if *base_mg > &factor * &median {
                spikes.push(Spike {
                    facility_id: *facility_id,
                    region_id: *region_id,
                    month: *month,
                    base_mg: base_mg.clone(),
                    records: *records,
                    high: *base_mg > &high_factor * &median,
                    baseline,
                    median,
                });
            }
        }
    }
    if spikes.is_empty() {
        return Ok(Vec::new());
    }

    // The largest dispensings of every flagged month, in one query for all of them.
    let ids: Vec<IdsRow> = diesel::sql_query(include_str!("dispensing_spike_listed.sql"))
        .bind::<Array<BigInt>, _>(spikes.iter().map(|s| s.facility_id).collect::<Vec<_>>())
        .bind::<Array<Date>, _>(spikes.iter().map(|s| s.month).collect::<Vec<_>>())
        .bind::<BigInt, _>(LISTED_DISPENSINGS)
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;
    let mut listed: BTreeMap<(FacilityId, NaiveDate), Vec<LedgerEntryId>> = ids.into_iter().map(|r| ((r.facility_id, r.month), r.ids)).collect();

    Ok(spikes
        .into_iter()
        .map(|s| {
            let month = Month::of(s.month);
            let ratio = ratio(&s.base_mg, &s.median);
            let dispensing_ids = listed.remove(&(s.facility_id, s.month)).unwrap_or_default();
            Finding::about_facility(
                s.facility_id,
                s.region_id,
                if s.high { Severity::High } else { Severity::Medium },
                format!(
                    "{} mg of base dispensed in {}, {:.1} × the median of the {} months before",
                    Decimal::from(s.base_mg.clone()).round(3),
                    month.label(),
                    ratio,
                    s.baseline.len()
                ),
                json!({
                    "records": {"dispensings": dispensing_ids},
                    "figures": {
                        "month": month.label(),
                        "base_mg": Decimal::from(s.base_mg).round(6),
                        "records": s.records,
                        "baseline": s.baseline.iter().map(|(m, mg)| json!({"month": Month::of(*m).label(), "base_mg": Decimal::from(mg.clone()).round(6)})).collect::<Vec<_>>(),
                        "baseline_median_base_mg": Decimal::from(s.median).round(6),
                        "ratio": (ratio * 1000.0).round() / 1000.0,
                        "dispensings_listed": LISTED_DISPENSINGS,
                    },
                    "thresholds": {
                        "factor": params.factor,
                        "high_factor": params.high_factor,
                        "baseline_months": params.baseline_months,
                        "min_history": params.min_history,
                    },
                }),
            )
            .during(month.first_day(), month.last_day())
        })
        .collect())
}

/// `value ÷ base` as a score (floating point is fine for a ratio shown to a reader).
fn ratio(value: &BigDecimal, base: &BigDecimal) -> f64 {
    use bigdecimal::ToPrimitive;
    match (value.to_f64(), base.to_f64()) {
        (Some(v), Some(b)) if b > 0.0 => v / b,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_exact_values_is_exact() {
        let d = |s: &str| BigDecimal::from_str(s).unwrap();
        assert_eq!(median(&[d("3"), d("1"), d("2")]), Some(d("2")));
        assert_eq!(median(&[d("0.1"), d("0.2")]), Some(d("0.15")));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { factor: 0.5, ..Params::default() }.check().is_err());
        assert!(Params { min_history: 7, ..Params::default() }.check().is_err());
        assert!(Params { high_factor: 2.0, ..Params::default() }.check().is_err());
    }
}
