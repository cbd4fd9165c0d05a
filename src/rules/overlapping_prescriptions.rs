//! `overlapping_prescriptions`: a new opioid dispensing to a patient while much of the
//! previous supply remains.
//!
//! A patient's dispensings are taken in time order, looking back up to `LOOK_BACK_DAYS`
//! days before the scan period for the one before the first. A supply ends `days_supply` ×
//! 24 hours after it was dispensed, whatever the server's time zone. A dispensing inside
//! the period overlaps when it starts while more than `remaining_pct` percent of the
//! previous supply remains: (previous end − start) ÷ previous days of supply, exact.
//! Patients with at least `min_overlaps` overlaps are flagged, with every pair as evidence.
//!
//! Dispensings of one patient at the same moment (a patch and a breakthrough tablet handed
//! over together, on one prescription or two) are one fill: they never overlap each other.
//! The previous fill's supply is its longest (`previous_id` in a pair names that
//! dispensing); `next_id` names the first dispensing of the new fill (its shortest supply);
//! every dispensing of both fills is listed in the records. Reversed dispensings never
//! count.
//!
//! Severity: `medium`; `high` from `high_from` overlaps.

use std::collections::HashMap;

use bigdecimal::BigDecimal;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Double, Integer, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::LedgerEntryId;
use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

/// How far before the period the previous dispensing is looked for (the longest supply).
pub const LOOK_BACK_DAYS: i64 = 365;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Percent of the previous supply that may still remain when the next one starts.
    pub remaining_pct: f64,
    /// Overlaps in the period that raise a flag.
    pub min_overlaps: i64,
    /// Overlaps from which the flag is `high`.
    pub high_from: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { remaining_pct: 25.0, min_overlaps: 1, high_from: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if !self.remaining_pct.is_finite() || !(0.0..100.0).contains(&self.remaining_pct) {
            return Err("remaining_pct must be at least 0 and below 100".into());
        }
        if self.min_overlaps < 1 || self.high_from < self.min_overlaps {
            return Err("min_overlaps must be at least 1 and high_from at least min_overlaps".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName, Clone)]
struct Row {
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    previous_id: LedgerEntryId,
    #[diesel(sql_type = BigInt)]
    next_id: LedgerEntryId,
    #[diesel(sql_type = Timestamptz)]
    previous_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    previous_days_supply: i32,
    #[diesel(sql_type = Timestamptz)]
    next_at: DateTime<Utc>,
    #[diesel(sql_type = Numeric)]
    remaining: BigDecimal,
}

#[derive(QueryableByName)]
struct Fill {
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<LedgerEntryId>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let look_from = from - Duration::days(LOOK_BACK_DAYS);
    // One window pass over the period in patient and time order. The first dispensing of a
    // moment starts a fill; its predecessor is the last row of the moment before (the
    // longest supply then). A cheap superset filter in plain time arithmetic keeps each
    // patient's first fill of the period and the fill starts that begin less than `slack` ×
    // the previous days of supply after it (`slack` is a second per day above the exact
    // bound). Only these few get the exact decimal check, and a patient's first fill looks
    // up the fill before the period through the patient index (one look-up per patient,
    // instead of reading a year of the whole country).
    let slack_seconds = 86_400.0 * (100.0 - params.remaining_pct) / 100.0 + 1.0;
    let rows: Vec<Row> = diesel::sql_query(include_str!("overlapping_prescriptions_pairs.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(look_from)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Double, _>(params.remaining_pct)
        .bind::<Double, _>(slack_seconds)
        .load(conn)?;
    let rows: Vec<Row> = rows
        .chunk_by(|a, b| a.patient_pseudonym == b.patient_pseudonym)
        .filter(|pairs| pairs.len() as i64 >= params.min_overlaps)
        .flatten()
        .cloned()
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }

    // Every dispensing of the fills in the pairs, for the flagged patients only.
    let mut moments: Vec<(Vec<u8>, DateTime<Utc>)> = rows
        .iter()
        .flat_map(|r| [(r.patient_pseudonym.clone(), r.previous_at), (r.patient_pseudonym.clone(), r.next_at)])
        .collect();
    moments.sort();
    moments.dedup();
    let fills: Vec<Fill> = diesel::sql_query(include_str!("overlapping_prescriptions_fills.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Array<Bytea>, _>(moments.iter().map(|m| m.0.clone()).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(moments.iter().map(|m| m.1).collect::<Vec<_>>())
        .load(conn)?;
    let mut fills: HashMap<Vec<u8>, Vec<LedgerEntryId>> = fills.into_iter().map(|f| (f.patient_pseudonym, f.ids)).collect();

    Ok(rows
        .chunk_by(|a, b| a.patient_pseudonym == b.patient_pseudonym)
        .map(|pairs| {
            let n = pairs.len() as i64;
            let ids = fills.remove(&pairs[0].patient_pseudonym).unwrap_or_default();
            Finding {
                subject_type: SubjectType::Patient,
                subject_id: hex::encode(&pairs[0].patient_pseudonym),
                facility_id: None,
                region_id: None,
                severity: if n >= params.high_from { Severity::High } else { Severity::Medium },
                title: format!(
                    "{n} dispensing{} while more than {}% of the previous supply remained",
                    if n == 1 { "" } else { "s" },
                    params.remaining_pct
                ),
                evidence: json!({
                    "records": {"dispensings": ids},
                    "figures": {
                        "overlaps": n,
                        "pairs": pairs.iter().map(|p| json!({
                            "previous_id": p.previous_id,
                            "next_id": p.next_id,
                            "previous_dispensed_at": p.previous_at,
                            "previous_days_supply": p.previous_days_supply,
                            "next_dispensed_at": p.next_at,
                            "remaining_fraction": Decimal::from(p.remaining.clone()).round(4),
                        })).collect::<Vec<_>>(),
                    },
                    "thresholds": {
                        "remaining_pct": params.remaining_pct,
                        "min_overlaps": params.min_overlaps,
                        "high_from": params.high_from,
                        "look_back_days": LOOK_BACK_DAYS,
                    },
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
        assert!(Params { remaining_pct: 100.0, ..Params::default() }.check().is_err());
        assert!(Params { min_overlaps: 0, ..Params::default() }.check().is_err());
        assert!(Params { high_from: 0, ..Params::default() }.check().is_err());
    }
}
