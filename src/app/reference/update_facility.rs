//! The admin, or the regulator of the facility's country, changes a facility's name,
//! licence or region (within its country); refused with `licence_number_taken` when another
//! facility of the country holds the licence number. The audit entry keeps both versions.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::{Facility, FacilityChangeset};
use crate::db::models::region::Region;
use crate::domain::ids::{FacilityId, RegionId};

/// The changes; a field left out (`None`) keeps its value.
#[derive(Debug, Clone)]
pub struct Input {
    pub facility_id: FacilityId,
    pub name: Option<String>,
    pub licence_number: Option<String>,
    pub licence_valid_until: Option<NaiveDate>,
    pub region_id: Option<RegionId>,
}

/// The facility after the change.
pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Facility>> {
    let id = input.facility_id;
    let before = Facility::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("facility"))?;
    policy::check_country(actor, &before.country_code)?;
    if let Some(region_id) = input.region_id {
        let region = Region::find(conn, region_id)?.ok_or_else(|| DomainError::field("/region_id", "unknown region"))?;
        if region.country_code != before.country_code {
            return Err(DomainError::field("/region_id", "must be a region of the facility's country").into());
        }
    }
    let changes = FacilityChangeset {
        region_id: input.region_id,
        name: input.name.as_deref().map(|s| s.trim().to_owned()),
        licence_number: input.licence_number.as_deref().map(|s| s.trim().to_owned()),
        licence_valid_until: input.licence_valid_until,
        updated_at: Some(chrono::Utc::now()),
    };
    let after = Facility::update(conn, id, &changes).map_err(unique_violation_as(DomainError::new(
        ProblemCode::LicenceNumberTaken,
        "another facility of this country holds this licence number",
    )))?;
    let audit = AuditEntry::new(
        AuditAction::UpdateFacility,
        ResourceType::Facility,
        id,
        Some(&after.country_code),
        json!({
            "before": {"name": before.name, "region_id": before.region_id, "licence_number": before.licence_number, "licence_valid_until": before.licence_valid_until},
            "after": {"name": after.name, "region_id": after.region_id, "licence_number": after.licence_number, "licence_valid_until": after.licence_valid_until},
        }),
    );
    Ok(Outcome::done(after, audit))
}
