//! `prescriber_outlier`: a prescriber whose morphine-equivalent volume is far above that of
//! the other prescribers of their region (or of the country, when the region has too few).
//!
//! Over the scan period, each `prescriber_id` of the country gets the morphine-equivalent mg
//! dispensed under their prescriptions (units × mg of base per unit × the substance's ME
//! factor in force on the period's last day, exact decimals; dispensings of substances
//! without an ME factor are left out of the mass and counted in the evidence). Prescribers
//! with at least `min_records` dispensings and some morphine-equivalent mass are compared:
//! with those of their home region (where most of their dispensings were made) when it has
//! at least `min_peers` of them (the prescriber itself counted), and otherwise with all of the country's (`domain::peers`; the evidence's
//! `peer_group` says which). A robust z-score on the natural-log scale (0.6745 × (ln x −
//! median) ÷ MAD, median and MAD of the group) above `z` raises a flag whose subject is the
//! prescriber. The evidence lists the prescriber's largest dispensings (up to
//! `LISTED_DISPENSINGS`), patients and facilities. The scan reports the prescribers compared
//! and those not compared: `too_few_records`, `missing_factor`, `too_few_peers`.
//!
//! Severity: `medium`; `high` when z is above `high_z`.

use std::collections::HashMap;

use bigdecimal::{BigDecimal, Signed, ToPrimitive};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, LedgerEntryId, RegionId};
use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::domain::peers::{Comparison, Subject, compare};
use crate::db::enums::NotEvaluatedReason;
use crate::rules::{Coverage, Evaluation, Finding, ScanContext, check_z_thresholds, round3, with_me_factors};

/// Dispensing ids listed in a flag's evidence (the largest by morphine equivalents).
const LISTED_DISPENSINGS: i64 = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Robust z (log scale) above which a prescriber is flagged.
    pub z: f64,
    /// Robust z from which the flag is `high`.
    pub high_z: f64,
    /// Dispensings in the period a prescriber needs to be compared (and to be a peer).
    pub min_records: i64,
    /// Prescribers in the peer group (the prescriber itself counted) needed for a comparison:
    /// in the home region, or else in the country.
    pub min_peers: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { z: 3.5, high_z: 5.0, min_records: 5, min_peers: 10 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        check_z_thresholds(self.z, self.high_z)?;
        if self.min_records < 1 {
            return Err("min_records must be at least 1".into());
        }
        if self.min_peers < 3 {
            return Err("min_peers must be at least 3".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    prescriber_id: String,
    #[diesel(sql_type = BigInt)]
    region_id: RegionId,
    #[diesel(sql_type = Numeric)]
    mme_mg: BigDecimal,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    records_without_factor: i64,
}

#[derive(QueryableByName)]
struct Detail {
    #[diesel(sql_type = Text)]
    prescriber_id: String,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<LedgerEntryId>,
    #[diesel(sql_type = BigInt)]
    patients: i64,
    #[diesel(sql_type = Array<BigInt>)]
    facility_ids: Vec<FacilityId>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Evaluation> {
    let (from, to) = ctx.range.bounds();
    // Units per prescriber, region and product in one pass (integer sums), converted to
    // morphine equivalents per product afterwards.
    let rows: Vec<Row> = diesel::sql_query(with_me_factors(include_str!("prescriber_outlier_volumes.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .load(conn)?;

    let mut coverage = Coverage::default();
    let mut compared: Vec<Row> = Vec::new();
    for r in rows {
        if r.records < params.min_records {
            coverage.skip(NotEvaluatedReason::TooFewRecords);
        } else if !r.mme_mg.is_positive() {
            coverage.skip(NotEvaluatedReason::MissingFactor);
        } else {
            compared.push(r);
        }
    }
    // Prescribers are all of one kind.
    let subjects: Vec<Subject> =
        compared.iter().map(|r| Subject { region_id: r.region_id, kind: String::new(), value: r.mme_mg.to_f64().unwrap_or(0.0) }).collect();
    let mut flagged: Vec<(&Row, Comparison, f64)> = Vec::new();
    for (r, comparison) in compared.iter().zip(compare(&subjects, params.min_peers)) {
        let Some(c) = comparison else {
            coverage.skip(NotEvaluatedReason::TooFewPeers);
            continue;
        };
        coverage.evaluated += 1;
        if let Some(z) = c.z.filter(|z| *z > params.z) {
            flagged.push((r, c, z));
        }
    }
    if flagged.is_empty() {
        return Ok(Evaluation { findings: Vec::new(), coverage: Some(coverage) });
    }

    // The supporting dispensings of the flagged prescribers only, through the prescriber index.
    let details: Vec<Detail> = diesel::sql_query(with_me_factors(include_str!("prescriber_outlier_details.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .bind::<Array<Text>, _>(flagged.iter().map(|(r, _, _)| r.prescriber_id.clone()).collect::<Vec<_>>())
        .bind::<BigInt, _>(LISTED_DISPENSINGS)
        .load(conn)?;
    let mut details: HashMap<String, Detail> = details.into_iter().map(|d| (d.prescriber_id.clone(), d)).collect();

    let findings = flagged
        .into_iter()
        .map(|(r, c, z)| {
            let detail = details.remove(&r.prescriber_id);
            let mme = Decimal::from(r.mme_mg.clone()).round(4);
            let place = c.group.place();
            Finding {
                subject_type: SubjectType::Prescriber,
                subject_id: r.prescriber_id.clone(),
                facility_id: None,
                region_id: Some(r.region_id),
                severity: if z > params.high_z { Severity::High } else { Severity::Medium },
                title: format!(
                    "{mme} morphine-equivalent mg prescribed against a median of {:.1} among {} prescribers {place} (robust z {z:.1})",
                    c.median,
                    c.members.len()
                ),
                evidence: json!({
                    "records": {"dispensings": detail.as_ref().map(|d| d.ids.clone()).unwrap_or_default()},
                    "figures": {
                        "mme_mg": mme,
                        "records": r.records,
                        "records_without_me_factor": r.records_without_factor,
                        "patients": detail.as_ref().map(|d| d.patients),
                        "facility_ids": detail.as_ref().map(|d| d.facility_ids.clone()).unwrap_or_default(),
                        "home_region_id": r.region_id,
                        "peer_group": c.group,
                        "group_median_mme_mg": round3(c.median),
                        "group_log_median": round3(c.log_median),
                        "group_log_mad": round3(c.log_mad),
                        "z": round3(z),
                        "peer_count": c.members.len() - 1,
                        "group_size": c.members.len(),
                        "me_factors_as_of": ctx.range.to,
                        "dispensings_listed": LISTED_DISPENSINGS,
                    },
                    "thresholds": {
                        "z": params.z,
                        "high_z": params.high_z,
                        "min_records": params.min_records,
                        "min_peers": params.min_peers,
                    },
                }),
                period: None,
            }
        })
        .collect();
    Ok(Evaluation { findings, coverage: Some(coverage) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { z: f64::NAN, ..Params::default() }.check().is_err());
        assert!(Params { min_records: 0, ..Params::default() }.check().is_err());
        assert!(Params { min_peers: 2, ..Params::default() }.check().is_err());
    }
}
