//! `overlapping_prescriptions`: a new opioid dispensing to a patient while much of the
//! previous supply remains.
//!
//! A patient's dispensings are taken in time order, looking back up to `LOOK_BACK_DAYS`
//! days before the scan period for the one before the first. A supply ends `days_supply`
//! days after it was dispensed. A dispensing inside the period overlaps when it starts while
//! more than `remaining_pct` percent of the previous supply remains: (previous end − start)
//! ÷ previous days of supply, exact. Patients with at least `min_overlaps` overlaps are
//! flagged, with every pair as evidence.
//!
//! Dispensings of one patient at the same moment (a patch and a breakthrough tablet handed
//! over together, on one prescription or two) are one fill: they never overlap each other,
//! and the fill's supply is its longest (its lead dispensing, the one named in the pairs;
//! every dispensing of both fills is listed in the records). Reversed dispensings never
//! count.
//!
//! Severity: `medium`; `high` from `high_from` overlaps.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Double, Integer, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use bigdecimal::BigDecimal;

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

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    previous_id: i64,
    #[diesel(sql_type = BigInt)]
    next_id: i64,
    #[diesel(sql_type = Timestamptz)]
    previous_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    previous_days_supply: i32,
    #[diesel(sql_type = Timestamptz)]
    next_at: DateTime<Utc>,
    #[diesel(sql_type = Numeric)]
    remaining: BigDecimal,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<i64>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let look_from = from - Duration::days(LOOK_BACK_DAYS);
    // A period shorter than the look-back would otherwise sort a year of the whole country:
    // then only patients with a dispensing in the period are read, through the patient index.
    let active = if ctx.range.days() < LOOK_BACK_DAYS {
        "AND d.patient_pseudonym IN (SELECT a.patient_pseudonym FROM dispensings a \
             WHERE a.country_code = $1 AND a.dispensed_at >= $3 AND a.dispensed_at < $4)"
    } else {
        ""
    };
    let rows: Vec<Row> = diesel::sql_query(format!(
        "WITH fills AS ( \
             SELECT d.patient_pseudonym, d.dispensed_at, max(d.days_supply) AS days_supply, \
                    (array_agg(d.id ORDER BY d.days_supply DESC, d.id DESC))[1] AS lead_id, array_agg(d.id ORDER BY d.id) AS ids \
             FROM dispensings d \
             WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $4 {active} \
               AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id) \
             GROUP BY d.patient_pseudonym, d.dispensed_at), \
         pairs AS ( \
             SELECT f.patient_pseudonym, f.dispensed_at, f.lead_id, f.ids, \
                    lag(f.dispensed_at) OVER w AS previous_at, lag(f.days_supply) OVER w AS previous_days_supply, \
                    lag(f.lead_id) OVER w AS previous_id, lag(f.ids) OVER w AS previous_ids \
             FROM fills f WINDOW w AS (PARTITION BY f.patient_pseudonym ORDER BY f.dispensed_at)), \
         refills AS ( \
             SELECT p.*, extract(epoch FROM p.previous_at + p.previous_days_supply * interval '1 day' - p.dispensed_at) \
                         / (p.previous_days_supply * 86400) AS remaining \
             FROM pairs p WHERE p.dispensed_at >= $3 AND p.previous_at IS NOT NULL), \
         kept AS ( \
             SELECT o.*, count(*) OVER (PARTITION BY o.patient_pseudonym) AS n \
             FROM refills o WHERE o.remaining * 100 > $5::numeric) \
         SELECT k.patient_pseudonym, k.previous_id, k.lead_id AS next_id, k.previous_at, k.previous_days_supply, \
                k.dispensed_at AS next_at, k.remaining, k.previous_ids || k.ids AS ids \
         FROM kept k WHERE k.n >= $6 \
         ORDER BY k.patient_pseudonym, k.dispensed_at"
    ))
    .bind::<Text, _>(&ctx.country)
    .bind::<Timestamptz, _>(look_from)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Double, _>(params.remaining_pct)
    .bind::<BigInt, _>(params.min_overlaps)
    .load(conn)?;

    Ok(rows
        .chunk_by(|a, b| a.patient_pseudonym == b.patient_pseudonym)
        .map(|pairs| {
            let n = pairs.len() as i64;
            let mut ids: Vec<i64> = pairs.iter().flat_map(|p| p.ids.iter().copied()).collect();
            ids.sort_unstable();
            ids.dedup();
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
