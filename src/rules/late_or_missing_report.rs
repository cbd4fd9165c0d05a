//! `late_or_missing_report`: a dispensing facility did not close a monthly reporting period
//! on time.
//!
//! For every retail facility (pharmacy, hospital) of the country that existed by a month's
//! end, every month overlapping the period whose due date (its last day plus the
//! configured reporting grace days) is before the scan day and which has no
//! `reporting_periods` row is a finding: one per facility and month, the finding's period
//! being that month.
//!
//! Severity: `low` (reporting discipline); `medium` once the month is more than
//! `medium_after_days` days past its due date.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, RegionId};
use crate::db::enums::Severity;
use crate::domain::period::Month;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Days past the due date from which a missing report is `medium` rather than `low`.
    pub medium_after_days: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { medium_after_days: 30 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if !(0..=3660).contains(&self.medium_after_days) {
            return Err("medium_after_days must be between 0 and 3660".into());
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
    #[diesel(sql_type = Date)]
    month: NaiveDate,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let first = Month::of(ctx.range.from);
    // The last month that is due: its last day plus the grace days is before today.
    let mut last = Month::of(ctx.range.to);
    while last >= first && last.due_by(ctx.reporting_grace_days) >= ctx.today {
        last = Month::of(last.first_day() - chrono::Duration::days(1));
    }
    if last < first {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = diesel::sql_query(include_str!("late_or_missing_report.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Date, _>(first.first_day())
        .bind::<Date, _>(last.first_day())
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let month = Month::of(r.month);
            let due_by = month.due_by(ctx.reporting_grace_days);
            let days_overdue = (ctx.today - due_by).num_days();
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if days_overdue > params.medium_after_days { Severity::Medium } else { Severity::Low },
                format!("Reporting period {} not closed; due by {due_by}", month.label()),
                json!({
                    "records": {"facilities": [r.facility_id]},
                    "figures": {"period": month.label(), "facility_kind": r.kind, "due_by": due_by, "closed": false},
                    "thresholds": {"grace_days": ctx.reporting_grace_days, "medium_after_days": params.medium_after_days},
                }),
            )
            .during(month.first_day(), month.last_day())
        })
        .collect())
}
