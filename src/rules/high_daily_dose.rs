//! `high_daily_dose`: a patient whose average daily morphine milligram equivalents over the
//! period are above a threshold, outside cancer and palliative care.
//!
//! Over the dispensings of the scan period, per patient: Σ(daily MME × days of supply) ÷
//! the days from the first dispensing to the end of the last supply (a dispensing's supply
//! ends `days_supply` × 24 hours after it, whatever the server's time zone; at least 1
//! day), in exact decimals. A patient with any cancer or palliative dispensing in the
//! period is never flagged (dose alone is no sign of diversion in their care). Records
//! without a daily MME (the substance's factor is not configured, or the product's labelled
//! strength is unknown: `domain::mme`) are left out of both sums and span and counted in the
//! evidence. Reversed dispensings never count.
//!
//! Severity: `medium`; `high` from `high_mme_per_day`.

use std::collections::HashMap;

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Double, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::LedgerEntryId;
use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Average MME per day above which a patient is flagged.
    pub mme_per_day: f64,
    /// Average MME per day from which the flag is `high`.
    pub high_mme_per_day: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { mme_per_day: 90.0, high_mme_per_day: 200.0 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if !self.mme_per_day.is_finite() || self.mme_per_day <= 0.0 {
            return Err("mme_per_day must be a positive number".into());
        }
        if !self.high_mme_per_day.is_finite() || self.high_mme_per_day < self.mme_per_day {
            return Err("high_mme_per_day must be at least mme_per_day".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = Numeric)]
    mme_total: BigDecimal,
    #[diesel(sql_type = Numeric)]
    days: BigDecimal,
    #[diesel(sql_type = Numeric)]
    mme_per_day: BigDecimal,
    #[diesel(sql_type = Timestamptz)]
    first_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    supply_end: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    records_without_mme: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    high: bool,
}

#[derive(QueryableByName)]
struct Ids {
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = Array<BigInt>)]
    without_mme: Vec<i64>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(include_str!("high_daily_dose_patients.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Double, _>(params.mme_per_day)
        .bind::<Double, _>(params.high_mme_per_day)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }

    // The dispensings of the flagged patients only, through the patient index.
    let ids: Vec<Ids> = diesel::sql_query(include_str!("high_daily_dose_listed.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Array<Bytea>, _>(rows.iter().map(|r| r.patient_pseudonym.clone()).collect::<Vec<_>>())
        .load(conn)?;
    let mut ids: HashMap<Vec<u8>, Ids> = ids.into_iter().map(|i| (i.patient_pseudonym.clone(), i)).collect();

    Ok(rows
        .into_iter()
        .map(|r| {
            let listed = ids.remove(&r.patient_pseudonym);
            let average = Decimal::from(r.mme_per_day).round(4);
            Finding {
                subject_type: SubjectType::Patient,
                subject_id: hex::encode(&r.patient_pseudonym),
                facility_id: None,
                region_id: None,
                severity: if r.high { Severity::High } else { Severity::Medium },
                title: format!("An average of {average} MME per day outside cancer and palliative care"),
                evidence: json!({
                    "records": {
                        "dispensings": listed.as_ref().map(|l| l.ids.clone()).unwrap_or_default(),
                        "dispensings_without_mme": listed.as_ref().map(|l| l.without_mme.clone()).unwrap_or_default(),
                    },
                    "figures": {
                        "mme_per_day": average,
                        "mme_total": Decimal::from(r.mme_total).round(4),
                        "days": Decimal::from(r.days).round(4),
                        "first_dispensed_at": r.first_at,
                        "supply_ends_at": r.supply_end,
                        "records": r.records,
                        "records_without_mme": r.records_without_mme,
                    },
                    "thresholds": {"mme_per_day": params.mme_per_day, "high_mme_per_day": params.high_mme_per_day},
                }),
                period: None,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { mme_per_day: 0.0, ..Params::default() }.check().is_err());
        assert!(Params { high_mme_per_day: 50.0, ..Params::default() }.check().is_err());
    }
}
