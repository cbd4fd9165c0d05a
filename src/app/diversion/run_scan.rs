//! The background run of a started scan: every enabled rule over the scan's country and
//! period, flags raised or refreshed, and its end — `complete_scan` with its counts or
//! `fail_scan` — recorded in the audit log for the actor who started it. Not a command: it
//! runs after the request was answered, outside the write frame.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::AuditEntry;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::scan::Scan;
use crate::domain::ids::ScanId;
use crate::rules::scan::{self, ScanOutcome};

/// Runs the scan `scan_id` (recorded `running`) as of the instant `now` (the country's day
/// then is its "today"), `reporting_grace_days` after a month's end counting a report late;
/// a failed run marks the scan failed.
pub fn run(conn: &mut PgConnection, actor: &Actor, scan_id: ScanId, now: DateTime<Utc>, reporting_grace_days: i64) -> AppResult<ScanOutcome> {
    let scan = Scan::find(conn, scan_id)?.ok_or_else(|| DomainError::not_found("scan"))?;
    let country = scan.country_code.clone();
    match scan::complete(conn, scan, now, reporting_grace_days) {
        Ok(outcome) => {
            let details = json!({"flags_raised": outcome.flags_raised, "flags_updated": outcome.flags_updated});
            AuditEntry::new(AuditAction::CompleteScan, ResourceType::Scan, scan_id, Some(&country), details).record(conn, actor)?;
            Ok(outcome)
        }
        Err(e) => {
            AuditEntry::new(AuditAction::FailScan, ResourceType::Scan, scan_id, Some(&country), json!({})).record(conn, actor)?;
            Err(e.into())
        }
    }
}
