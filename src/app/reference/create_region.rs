//! The admin, or the ministry or regulator of a country, adds a region to the country;
//! refused for an unknown country, and with `region_exists` when the country already has a
//! region of that name or code.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::region::{NewRegion, Region};

/// `country_code` is trimmed and upper-case, `name` trimmed.
#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub name: String,
    pub code: Option<String>,
}

impl Input {
    pub fn new(country_code: &str, name: &str, code: Option<String>) -> Input {
        Input { country_code: country_code.trim().to_uppercase(), name: name.trim().to_owned(), code }
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Region>> {
    policy::check_country(actor, &input.country_code)?;
    if Country::find(conn, &input.country_code)?.is_none() {
        return Err(DomainError::field("/country_code", "unknown country").into());
    }
    let region = Region::create(conn, &NewRegion { country_code: &input.country_code, name: &input.name, code: input.code.as_deref() })
        .map_err(unique_violation_as(DomainError::new(ProblemCode::RegionExists, "the country already has a region with this name or code")))?;
    let audit = AuditEntry::new(
        AuditAction::CreateRegion,
        ResourceType::Region,
        region.id,
        Some(&input.country_code),
        json!({"name": region.name, "code": region.code}),
    );
    Ok(Outcome::done(region, audit))
}
