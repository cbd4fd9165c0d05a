//! The admin, or the regulator of the region's country, licenses a facility in a region;
//! refused for an unknown region, and with `licence_number_taken` when another facility of
//! the country holds the licence number.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, FacilityKind, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::{Facility, NewFacility};
use crate::db::models::region::Region;
use crate::domain::ids::RegionId;

#[derive(Debug, Clone)]
pub struct Input {
    pub region_id: RegionId,
    pub name: String,
    pub kind: FacilityKind,
    pub licence_number: String,
    pub licence_valid_until: NaiveDate,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Facility>> {
    let region = Region::find(conn, input.region_id)?.ok_or_else(|| DomainError::field("/region_id", "unknown region"))?;
    policy::check_country(actor, &region.country_code)?;
    let facility = Facility::create(
        conn,
        &NewFacility {
            country_code: &region.country_code,
            region_id: region.id,
            name: input.name.trim(),
            kind: input.kind,
            licence_number: input.licence_number.trim(),
            licence_valid_until: input.licence_valid_until,
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::LicenceNumberTaken, "another facility of this country holds this licence number")
            .with_error(FieldError::at("/licence_number", "is taken")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateFacility,
        ResourceType::Facility,
        facility.id,
        Some(&facility.country_code),
        json!({"name": facility.name, "kind": facility.kind, "licence_number": facility.licence_number, "licence_valid_until": facility.licence_valid_until}),
    );
    Ok(Outcome::done(facility, audit))
}
