//! `prescriber_outlier`: a prescriber whose morphine-equivalent volume is far above that of
//! the country's other prescribers.
//!
//! Over the scan period, each `prescriber_id` of the country gets the morphine-equivalent mg
//! dispensed under their prescriptions (units × mg of base per unit × the substance's ME
//! factor in force on the period's last day, exact decimals; dispensings of substances
//! without an ME factor are left out of the mass and counted in the evidence). Prescribers
//! with at least `min_records` dispensings form the peer group; with at least `min_peers`
//! of them (the prescriber itself counted, as `stats::robust_log_z` counts it), a robust
//! z-score on the natural-log scale (0.6745 × (ln x − median) ÷ MAD, median and MAD of the
//! group) above `z` raises a flag whose subject is the prescriber. The evidence lists the
//! prescriber's largest dispensings (up to `LISTED_DISPENSINGS`), patients and facilities.
//!
//! Severity: `medium`; `high` when z is above `high_z`.

use std::collections::HashMap;

use bigdecimal::{BigDecimal, ToPrimitive};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::domain::stats::{mad, median, robust_log_z};
use crate::rules::{Finding, ScanContext, check_z_thresholds, round3, with_me_factors};

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
    /// Prescribers in the peer group (the prescriber itself counted) needed for a comparison.
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
    ids: Vec<i64>,
    #[diesel(sql_type = BigInt)]
    patients: i64,
    #[diesel(sql_type = Array<BigInt>)]
    facility_ids: Vec<i64>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    // Units per prescriber and product in one pass (integer sums), converted to morphine
    // equivalents per product afterwards.
    let rows: Vec<Row> = diesel::sql_query(with_me_factors(include_str!("prescriber_outlier_volumes.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .bind::<BigInt, _>(params.min_records)
        .load(conn)?;

    let values: Vec<f64> = rows.iter().map(|r| r.mme_mg.to_f64().unwrap_or(0.0)).collect();
    let scores = robust_log_z(&values, params.min_peers);
    let logs: Vec<f64> = values.iter().map(|v| v.max(f64::MIN_POSITIVE).ln()).collect();
    let (Some(log_median), Some(log_mad)) = (median(&logs), mad(&logs)) else { return Ok(Vec::new()) };
    let peers_median = median(&values).unwrap_or(0.0);
    let flagged: Vec<(&Row, f64)> = rows.iter().zip(scores).filter_map(|(r, z)| z.filter(|z| *z > params.z).map(|z| (r, z))).collect();
    if flagged.is_empty() {
        return Ok(Vec::new());
    }

    // The supporting dispensings of the flagged prescribers only, through the prescriber index.
    let details: Vec<Detail> = diesel::sql_query(with_me_factors(include_str!("prescriber_outlier_details.sql")))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.range.to)
        .bind::<Array<Text>, _>(flagged.iter().map(|(r, _)| r.prescriber_id.clone()).collect::<Vec<_>>())
        .bind::<BigInt, _>(LISTED_DISPENSINGS)
        .load(conn)?;
    let mut details: HashMap<String, Detail> = details.into_iter().map(|d| (d.prescriber_id.clone(), d)).collect();

    Ok(flagged
        .into_iter()
        .map(|(r, z)| {
            let detail = details.remove(&r.prescriber_id);
            let mme = Decimal::from(r.mme_mg.clone()).round(4);
            Finding {
                subject_type: SubjectType::Prescriber,
                subject_id: r.prescriber_id.clone(),
                facility_id: None,
                region_id: None,
                severity: if z > params.high_z { Severity::High } else { Severity::Medium },
                title: format!(
                    "{mme} morphine-equivalent mg prescribed against a median of {peers_median:.1} among {} prescribers (robust z {z:.1})",
                    rows.len()
                ),
                evidence: json!({
                    "records": {"dispensings": detail.as_ref().map(|d| d.ids.clone()).unwrap_or_default()},
                    "figures": {
                        "mme_mg": mme,
                        "records": r.records,
                        "records_without_me_factor": r.records_without_factor,
                        "patients": detail.as_ref().map(|d| d.patients),
                        "facility_ids": detail.as_ref().map(|d| d.facility_ids.clone()).unwrap_or_default(),
                        "group_median_mme_mg": round3(peers_median),
                        "group_log_median": round3(log_median),
                        "group_log_mad": round3(log_mad),
                        "z": round3(z),
                        "peer_count": rows.len() - 1,
                        "group_size": rows.len(),
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
        .collect())
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
