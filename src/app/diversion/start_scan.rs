//! A regulator starts a scan of every enabled rule over its country and a period of at most
//! two years: the scan is recorded `running` and answered at once, and `run_scan` runs it in
//! the background. Refused for another country, an unknown country or a period out of order.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType, ScanTrigger};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::scan::Scan;
use crate::db::reports::flows::DateRange;
use crate::domain::period::Tz;

/// Longest period one scan covers.
pub const MAX_SCAN_DAYS: i64 = 366 * 2;

/// A checked request: an upper-case country the actor may scan, a period in order and
/// within `MAX_SCAN_DAYS`.
#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub range: DateRange,
}

impl Input {
    /// Checks, before anything is read, that `actor` may scan the country and the period.
    pub fn parse(actor: &Actor, country_code: &str, from: NaiveDate, to: NaiveDate) -> Result<Input, DomainError> {
        let country_code = country_code.trim().to_uppercase();
        policy::check_country(actor, &country_code)?;
        if to < from {
            return Err(DomainError::field("/to", "must not be before from"));
        }
        // Only the days count here; the scan cuts them at the country's local midnight.
        let range = DateRange { from, to, zone: Tz::UTC };
        if range.days() > MAX_SCAN_DAYS {
            return Err(DomainError::field("/to", format!("a scan covers at most {MAX_SCAN_DAYS} days")));
        }
        Ok(Input { country_code, range })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Scan>> {
    let Input { country_code: country, range } = input;
    if Country::find(conn, &country)?.is_none() {
        return Err(DomainError::field("/country_code", "unknown country").into());
    }
    let scan = Scan::start(conn, &country, range.from, range.to, ScanTrigger::Manual, actor.user_id)?;
    let audit = AuditEntry::new(AuditAction::CreateScan, ResourceType::Scan, scan.id, Some(&country), json!({"from": range.from, "to": range.to}));
    Ok(Outcome::done(scan, audit))
}
