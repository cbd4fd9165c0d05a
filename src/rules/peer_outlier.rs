//! `peer_outlier`: a dispensing facility whose morphine-equivalent dispensing per registered
//! patient is far above that of its peers.
//!
//! Over the scan period, each dispensing facility's morphine-equivalent mg (units × mg of
//! base per unit × the substance's ME factor in force on the period's last day, exact
//! decimals; dispensings of substances without an ME factor are left out of the mass and
//! counted in the evidence) is divided by its registered patients (distinct pseudonyms,
//! every dispensing counted). Facilities with at least `min_patients` patients and some
//! morphine-equivalent mass are compared with the facilities of the same kind in their
//! region when it holds at least `min_peers` of them (the facility itself
//! counted), and otherwise with those of the same kind in the whole
//! country (`domain::peers`); a robust z-score on the natural-log scale (0.6745 × (ln x −
//! median) ÷ MAD, median and MAD of the group) above `z` raises a flag. The evidence says
//! which group was used (`peer_group`: `region` or `country`) and gives the facility's
//! figures, the group's median and MAD, z, the number of other facilities (`peer_count`)
//! and the group's facilities. The scan reports the facilities compared and those not
//! compared: `too_few_patients`, `missing_factor` (no dispensing with an ME factor),
//! `too_few_peers` (even the country has fewer than `min_peers` of the kind).
//!
//! Severity: `medium`; `high` when z is above `high_z`.

use bigdecimal::{BigDecimal, Signed, ToPrimitive};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, RegionId};
use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::domain::peers::{Subject, compare};
use crate::db::enums::NotEvaluatedReason;
use crate::rules::{Coverage, Evaluation, Finding, ScanContext, check_z_thresholds, round3, with_me_factors};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Robust z (log scale) above which a facility is flagged.
    pub z: f64,
    /// Robust z from which the flag is `high`.
    pub high_z: f64,
    /// Registered patients a facility needs in the period to be compared (and to be a peer).
    pub min_patients: i64,
    /// Facilities of the same kind (the facility itself counted) needed for a comparison: in
    /// the region, or else in the country.
    pub min_peers: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { z: 3.5, high_z: 5.0, min_patients: 10, min_peers: 5 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        check_z_thresholds(self.z, self.high_z)?;
        if self.min_patients < 1 {
            return Err("min_patients must be at least 1".into());
        }
        if self.min_peers < 3 {
            return Err("min_peers must be at least 3".into());
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
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Numeric)]
    mme_mg: BigDecimal,
    #[diesel(sql_type = BigInt)]
    patients: i64,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    records_without_factor: i64,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Evaluation> {
    let (from, to) = ctx.range.bounds();
    // One pass over the period's dispensings, summing units per facility, patient and
    // product (integers); then each sum weighted by its product's exact morphine-equivalent
    // mg per unit, per facility and patient, then per facility.
    let rows: Vec<Row> = diesel::sql_query(with_me_factors(include_str!("peer_outlier.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .load(conn)?;

    let mut coverage = Coverage::default();
    let mut compared: Vec<(Row, BigDecimal)> = Vec::new();
    for r in rows {
        if r.patients < params.min_patients {
            coverage.skip(NotEvaluatedReason::TooFewPatients);
        } else if !r.mme_mg.is_positive() {
            coverage.skip(NotEvaluatedReason::MissingFactor);
        } else {
            let per_patient = &r.mme_mg / BigDecimal::from(r.patients);
            compared.push((r, per_patient));
        }
    }
    let subjects: Vec<Subject> =
        compared.iter().map(|(r, v)| Subject { region_id: r.region_id, kind: r.kind.clone(), value: v.to_f64().unwrap_or(0.0) }).collect();
    let mut findings = Vec::new();
    for ((r, value), comparison) in compared.iter().zip(compare(&subjects, params.min_peers)) {
        let Some(c) = comparison else {
            coverage.skip(NotEvaluatedReason::TooFewPeers);
            continue;
        };
        coverage.evaluated += 1;
        let Some(z) = c.z.filter(|z| *z > params.z) else { continue };
        let value = Decimal::from(value.clone()).round(4);
        let peers = c.members.len() - 1;
        let kind = &r.kind;
        let place = c.group.place();
        findings.push(Finding::about_facility(
            r.facility_id,
            r.region_id,
            if z > params.high_z { Severity::High } else { Severity::Medium },
            format!(
                "{value} morphine-equivalent mg per patient against a median of {:.1} at {peers} other {kind} facilities {place} (robust z {z:.1})",
                c.median
            ),
            json!({
                "records": {"facilities": c.members.iter().map(|&i| compared[i].0.facility_id).collect::<Vec<_>>()},
                "figures": {
                    "mme_mg": Decimal::from(r.mme_mg.clone()).round(4),
                    "patients": r.patients,
                    "records": r.records,
                    "records_without_me_factor": r.records_without_factor,
                    "mme_mg_per_patient": value,
                    "peer_group": c.group,
                    "group_median_mme_mg_per_patient": round3(c.median),
                    "group_log_median": round3(c.log_median),
                    "group_log_mad": round3(c.log_mad),
                    "z": round3(z),
                    "peer_count": peers,
                    "group_size": c.members.len(),
                    "facility_kind": kind,
                    "me_factors_as_of": ctx.range.to,
                },
                "thresholds": {
                    "z": params.z,
                    "high_z": params.high_z,
                    "min_patients": params.min_patients,
                    "min_peers": params.min_peers,
                },
            }),
        ));
    }
    Ok(Evaluation { findings, coverage: Some(coverage) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { z: -1.0, ..Params::default() }.check().is_err());
        assert!(Params { min_peers: 1, ..Params::default() }.check().is_err());
        assert!(Params { high_z: 2.0, ..Params::default() }.check().is_err());
    }
}
