//! `peer_outlier`: a dispensing facility whose morphine-equivalent dispensing per registered
//! patient is far above that of its peers.
//!
//! Over the scan period, each dispensing facility's morphine-equivalent mg (units × mg of
//! base per unit × the substance's ME factor in force on the period's last day, exact
//! decimals; dispensings of substances without an ME factor are left out of the mass and
//! counted in the evidence) is divided by its registered patients (distinct pseudonyms,
//! every dispensing counted). Facilities with at least `min_patients` patients are grouped
//! by kind and region; in a group of at least `min_peers` facilities (the facility itself
//! counted, as `stats::robust_log_z` counts it), a robust z-score on the natural-log scale
//! (0.6745 × (ln x − median) ÷ MAD, median and MAD of the group) above `z` raises a flag.
//! The evidence gives the facility's figures, the group's median and MAD, z, the number of
//! other facilities (`peer_count`) and the group's facilities.
//!
//! Severity: `medium`; `high` when z is above `high_z`.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, ToPrimitive};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::domain::stats::{mad, median, robust_log_z};
use crate::rules::{Finding, ScanContext, check_z_thresholds, round3, with_me_factors};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Robust z (log scale) above which a facility is flagged.
    pub z: f64,
    /// Robust z from which the flag is `high`.
    pub high_z: f64,
    /// Registered patients a facility needs in the period to be compared (and to be a peer).
    pub min_patients: i64,
    /// Facilities of the same kind and region (the facility itself counted) needed for a comparison.
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
    facility_id: i64,
    #[diesel(sql_type = BigInt)]
    region_id: i64,
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

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    // One pass over the period's dispensings, summing units per facility, patient and
    // product (integers); then each sum weighted by its product's exact morphine-equivalent
    // mg per unit, per facility and patient, then per facility.
    let rows: Vec<Row> = diesel::sql_query(with_me_factors(include_str!("peer_outlier.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .bind::<BigInt, _>(params.min_patients)
        .load(conn)?;

    let mut groups: BTreeMap<(i64, String), Vec<Row>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.region_id, r.kind.clone())).or_default().push(r);
    }
    let mut findings = Vec::new();
    for ((region_id, kind), members) in groups {
        let per_patient: Vec<BigDecimal> = members.iter().map(|r| &r.mme_mg / BigDecimal::from(r.patients)).collect();
        let values: Vec<f64> = per_patient.iter().map(|v| v.to_f64().unwrap_or(0.0)).collect();
        let scores = robust_log_z(&values, params.min_peers);
        let logs: Vec<f64> = values.iter().map(|v| v.max(f64::MIN_POSITIVE).ln()).collect();
        let (Some(log_median), Some(log_mad)) = (median(&logs), mad(&logs)) else { continue };
        let peers_median = median(&values).unwrap_or(0.0);
        for ((r, value), score) in members.iter().zip(per_patient).zip(scores) {
            let Some(z) = score else { continue };
            if z <= params.z {
                continue;
            }
            let value = Decimal::from(value).round(4);
            findings.push(Finding::about_facility(
                r.facility_id,
                region_id,
                if z > params.high_z { Severity::High } else { Severity::Medium },
                format!(
                    "{value} morphine-equivalent mg per patient against a median of {peers_median:.1} at {} other {kind} facilities of the region (robust z {z:.1})",
                    members.len() - 1
                ),
                json!({
                    "records": {"facilities": members.iter().map(|m| m.facility_id).collect::<Vec<_>>()},
                    "figures": {
                        "mme_mg": Decimal::from(r.mme_mg.clone()).round(4),
                        "patients": r.patients,
                        "records": r.records,
                        "records_without_me_factor": r.records_without_factor,
                        "mme_mg_per_patient": value,
                        "group_median_mme_mg_per_patient": round3(peers_median),
                        "group_log_median": round3(log_median),
                        "group_log_mad": round3(log_mad),
                        "z": round3(z),
                        "peer_count": members.len() - 1,
                        "group_size": members.len(),
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
    }
    Ok(findings)
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
