//! `multiple_provider_episode`: one patient pseudonym served by many prescribers and many
//! pharmacies within a short window ("doctor shopping").
//!
//! A window is `window_days` calendar days (UTC) ending on a day of the scan period on
//! which the patient received a dispensing (an episode completed before the period belongs
//! to an earlier scan). A patient is flagged when some such window holds dispensings from
//! at least `prescribers` distinct prescribers and at least `pharmacies` distinct
//! dispensing facilities. Candidates are found in SQL with hash aggregates only: over the
//! period and its look-back of `window_days − 1` days, the patient's distinct
//! prescriber-and-facility combinations are at least as many as either threshold (a
//! necessary condition). The exact sliding windows are then checked for the candidates
//! only. The evidence is the window with the most distinct prescribers and facilities (the
//! earliest among equals). Reversed dispensings never count.
//!
//! Severity: `medium`; `high` when that window reaches `high_prescribers` prescribers or
//! `high_pharmacies` facilities.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, LedgerEntryId};
use crate::db::enums::{Severity, SubjectType};
use crate::rules::{Finding, ScanContext};
use crate::domain::period::{Tz, local_day};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Distinct prescribers within one window that raise a flag.
    pub prescribers: i64,
    /// Distinct dispensing facilities within one window that raise a flag.
    pub pharmacies: i64,
    /// Length of the window in calendar days.
    pub window_days: i64,
    /// Distinct prescribers from which the flag is `high`.
    pub high_prescribers: i64,
    /// Distinct dispensing facilities from which the flag is `high`.
    pub high_pharmacies: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { prescribers: 4, pharmacies: 4, window_days: 90, high_prescribers: 6, high_pharmacies: 6 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.prescribers < 2 || self.pharmacies < 1 {
            return Err("prescribers must be at least 2 and pharmacies at least 1".into());
        }
        if !(1..=366).contains(&self.window_days) {
            return Err("window_days must be between 1 and 366".into());
        }
        if self.high_prescribers < self.prescribers || self.high_pharmacies < self.pharmacies {
            return Err("high_prescribers and high_pharmacies must be at least prescribers and pharmacies".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName, Debug, Clone)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: LedgerEntryId,
    #[diesel(sql_type = Bytea)]
    patient_pseudonym: Vec<u8>,
    #[diesel(sql_type = Timestamptz)]
    dispensed_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    prescriber_id: String,
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
}

/// Distinct values in a sliding window, with how often each occurs.
struct Counter<K>(HashMap<K, usize>);

impl<K: Hash + Eq> Counter<K> {
    fn add(&mut self, k: K) {
        *self.0.entry(k).or_default() += 1;
    }

    fn remove(&mut self, k: &K) {
        if let Some(n) = self.0.get_mut(k) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(k);
            }
        }
    }

    fn distinct(&self) -> usize {
        self.0.len()
    }
}

/// The best qualifying window of one patient's dispensings (sorted by time): its first and
/// one-past-last index and its last day. Days are those of `zone` (the country's).
fn best_window(rows: &[Row], (from, to): (NaiveDate, NaiveDate), zone: Tz, params: &Params) -> Option<(usize, usize, NaiveDate)> {
    let mut prescribers = Counter(HashMap::new());
    let mut facilities = Counter(HashMap::new());
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut best: Option<(usize, usize, usize, NaiveDate)> = None;
    while hi < rows.len() {
        // The window ends with the whole day of rows[hi].
        let day = local_day(zone, rows[hi].dispensed_at);
        while hi < rows.len() && local_day(zone, rows[hi].dispensed_at) == day {
            prescribers.add(rows[hi].prescriber_id.as_str());
            facilities.add(rows[hi].facility_id);
            hi += 1;
        }
        let first_day = day - Duration::days(params.window_days - 1);
        while local_day(zone, rows[lo].dispensed_at) < first_day {
            prescribers.remove(&rows[lo].prescriber_id.as_str());
            facilities.remove(&rows[lo].facility_id);
            lo += 1;
        }
        if day < from || day > to {
            continue;
        }
        let (p, f) = (prescribers.distinct(), facilities.distinct());
        if p as i64 >= params.prescribers && f as i64 >= params.pharmacies && best.is_none_or(|b| p + f > b.0) {
            best = Some((p + f, lo, hi, day));
        }
    }
    best.map(|(_, lo, hi, day)| (lo, hi, day))
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let look_from = from - Duration::days(params.window_days - 1);
    // A short period would otherwise group the whole look-back of the country: then only
    // patients with a dispensing in the period are considered, through the patient index.
    let active = if ctx.range.days() < params.window_days { include_str!("multiple_provider_episode_active.sql") } else { "" };
    let rows: Vec<Row> = diesel::sql_query(include_str!("multiple_provider_episode.sql").replace("/*active*/", active))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(look_from)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<BigInt, _>(params.prescribers)
        .bind::<BigInt, _>(params.pharmacies)
        .load(conn)?;

    let mut findings = Vec::new();
    for patient in rows.chunk_by(|a, b| a.patient_pseudonym == b.patient_pseudonym) {
        let Some((lo, hi, last_day)) = best_window(patient, (ctx.range.from, ctx.range.to), ctx.range.zone, params) else { continue };
        let window = &patient[lo..hi];
        let prescribers: BTreeSet<&str> = window.iter().map(|r| r.prescriber_id.as_str()).collect();
        let facilities: BTreeSet<FacilityId> = window.iter().map(|r| r.facility_id).collect();
        let high = prescribers.len() as i64 >= params.high_prescribers || facilities.len() as i64 >= params.high_pharmacies;
        let first_day = last_day - Duration::days(params.window_days - 1);
        findings.push(Finding {
            subject_type: SubjectType::Patient,
            subject_id: hex::encode(&patient[0].patient_pseudonym),
            facility_id: None,
            region_id: None,
            severity: if high { Severity::High } else { Severity::Medium },
            title: format!(
                "One patient served by {} prescribers and {} dispensing facilities in the {} days to {last_day}",
                prescribers.len(),
                facilities.len(),
                params.window_days
            ),
            evidence: json!({
                "records": {"dispensings": window.iter().map(|r| r.id).collect::<Vec<_>>(), "facilities": facilities},
                "figures": {
                    "window_from": first_day,
                    "window_to": last_day,
                    "dispensings": window.len(),
                    "prescriber_count": prescribers.len(),
                    "facility_count": facilities.len(),
                    "prescribers": prescribers,
                },
                "thresholds": {
                    "prescribers": params.prescribers,
                    "pharmacies": params.pharmacies,
                    "window_days": params.window_days,
                    "high_prescribers": params.high_prescribers,
                    "high_pharmacies": params.high_pharmacies,
                },
            }),
            period: None,
        });
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(id: i64, day: u32, prescriber: &str, facility: i64) -> Row {
        Row {
            id: LedgerEntryId(id),
            patient_pseudonym: vec![1; 32],
            dispensed_at: Utc.with_ymd_and_hms(2026, 3, day, 10, 0, 0).unwrap(),
            prescriber_id: prescriber.into(),
            facility_id: FacilityId(facility),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn a_window_needs_both_counts_and_must_end_in_the_period() {
        let p = Params { window_days: 10, ..Params::default() };
        let rows = vec![row(1, 1, "a", 1), row(2, 3, "b", 2), row(3, 5, "c", 3), row(4, 8, "d", 4), row(5, 20, "e", 5)];
        assert_eq!(best_window(&rows, (day(1), day(31)), Tz::UTC, &p), Some((0, 4, day(8))));
        // The window ending on the 8th is before the period.
        assert_eq!(best_window(&rows, (day(9), day(31)), Tz::UTC, &p), None);
        // Eleven days from first to last: no window of ten days holds all four.
        let spread = vec![row(1, 1, "a", 1), row(2, 3, "b", 2), row(3, 5, "c", 3), row(4, 11, "d", 4)];
        assert_eq!(best_window(&spread, (day(1), day(31)), Tz::UTC, &p), None);
        // Four prescribers, three facilities.
        let three = vec![row(1, 1, "a", 1), row(2, 3, "b", 2), row(3, 5, "c", 3), row(4, 8, "d", 3)];
        assert_eq!(best_window(&three, (day(1), day(31)), Tz::UTC, &p), None);
    }

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { window_days: 0, ..Params::default() }.check().is_err());
        assert!(Params { high_prescribers: 3, ..Params::default() }.check().is_err());
    }
}
