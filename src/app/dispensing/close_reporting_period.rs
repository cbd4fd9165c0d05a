//! A dispensing facility's own user closes an ended month: with its submissions, or with an
//! explicit zero report when nothing was dispensed (silence is never read as zero). Refused
//! for a facility that does not dispense, a month not yet ended, a zero report over recorded
//! dispensings (`not_a_zero_period`), no records without a zero report
//! (`zero_report_required`) and a month already closed. A closed month takes no more
//! dispensings.

use chrono::Utc;
use diesel::PgConnection;
use serde_json::json;

use crate::app::dispensing::record_batch;
use crate::app::error::{AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::dispensing::Dispensing;
use crate::db::models::facility::Facility;
use crate::db::models::reporting_period::ReportingPeriod;
use crate::domain::period::{Month, today_in};

/// A checked request: a dispensing facility and a month that has ended.
#[derive(Debug, Clone)]
pub struct Input {
    /// The facility (loaded by the caller).
    pub facility: Facility,
    pub month: Month,
    pub zero_report: bool,
}

impl Input {
    /// Checks what needs no database: the facility dispenses. Whether the month has ended
    /// depends on the country's clock, so `execute` judges it.
    pub fn parse(facility: Facility, month: Month, zero_report: bool) -> Result<Input, DomainError> {
        if !facility.kind.is_retail() {
            return Err(DomainError::new(
                ProblemCode::NotADispensingFacility,
                "only pharmacies and hospitals dispense; this facility has no dispensing periods",
            ));
        }
        Ok(Input { facility, month, zero_report })
    }
}

/// The closed period.
pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<ReportingPeriod>> {
    let Input { facility, month, zero_report } = input;
    policy::check_reports_for(actor, facility.id)?;
    // The month is the country's: it ends at local midnight, and so do its dispensings.
    let zone = Country::zone_of(conn, &facility.country_code)?;
    if !month.has_ended(today_in(zone, Utc::now())) {
        return Err(DomainError::new(ProblemCode::PeriodNotEnded, format!("{} has not ended yet", month.label())).into());
    }
    // Counted under the batches' lock: a batch arriving now lands before or after.
    record_batch::lock_facility(conn, facility.id)?;
    let (from, to) = month.bounds(zone);
    let count = Dispensing::count_in(conn, facility.id, from, to)?;
    if zero_report && count > 0 {
        return Err(DomainError::new(ProblemCode::NotAZeroPeriod, format!("{count} dispensings were recorded in {}", month.label()))
            .with("dispensing_count", count)
            .into());
    }
    if !zero_report && count == 0 {
        return Err(DomainError::new(
            ProblemCode::ZeroReportRequired,
            format!("nothing was recorded in {}: close it with {{\"zero_report\": true}}", month.label()),
        )
        .into());
    }
    let row = ReportingPeriod::close(
        conn,
        &ReportingPeriod {
            facility_id: facility.id,
            period: month.first_day(),
            country_code: facility.country_code.clone(),
            zero_report,
            dispensing_count: count,
            closed_at: Utc::now(),
            closed_by: actor.user_id,
        },
    )
    .map_err(unique_violation_as(DomainError::new(ProblemCode::PeriodAlreadyClosed, format!("{} is already closed", month.label()))))?;
    let audit = AuditEntry::new(
        AuditAction::CloseReportingPeriod,
        ResourceType::Facility,
        facility.id,
        Some(&facility.country_code),
        json!({"period": month.label(), "zero_report": zero_report, "dispensing_count": count}),
    );
    Ok(Outcome::done(row, audit))
}
