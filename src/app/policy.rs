//! Who may do what: the scope checks every command and query applies to its actor.
//!
//! Country-level data (reports, registers, flags) is for the admin everywhere and for the
//! regulator and ministry of the country; a facility-role user (pharmacy, wholesaler)
//! never passes a country-level check, it reaches only its own facility.

use crate::app::error::DomainError;
use crate::db::enums::Role;
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;

/// 403 unless `actor` has one of `roles`.
pub fn require(actor: &Actor, roles: &[Role]) -> Result<(), DomainError> {
    match actor.role {
        Some(role) if roles.contains(&role) => Ok(()),
        Some(role) => Err(DomainError::forbidden(format!("the {role} role may not do this"))),
        None => Err(DomainError::forbidden("only a signed-in user may do this")),
    }
}

/// 403 unless `actor` may see country-level data of `country`: the admin everywhere, the
/// regulator and the ministry in their own country.
pub fn check_country(actor: &Actor, country: &str) -> Result<(), DomainError> {
    match actor.role {
        Some(Role::Admin) => Ok(()),
        Some(Role::Regional) => Err(DomainError::forbidden("the regional role reads cross-border aggregates only")),
        Some(Role::Regulator | Role::Ministry) if actor.country_code.as_deref() == Some(country) => Ok(()),
        Some(Role::Pharmacy | Role::Wholesaler) => Err(DomainError::forbidden("a facility user reaches only its own facility")),
        _ => Err(DomainError::forbidden(format!("no access to data of country {country}"))),
    }
}

/// 403 unless `actor` may see `facility`: its own users, the regulator and ministry of its
/// country, and the admin.
pub fn check_facility(actor: &Actor, facility: &Facility) -> Result<(), DomainError> {
    if actor.role.is_some_and(Role::is_facility_role) {
        return if actor.facility_id == Some(facility.id) {
            Ok(())
        } else {
            Err(DomainError::forbidden("a facility user reaches only its own facility"))
        };
    }
    check_country(actor, &facility.country_code)
}

/// 403 unless `actor` reports for the facility `facility_id` (its own pharmacy or wholesaler user).
pub fn check_reports_for(actor: &Actor, facility_id: i64) -> Result<(), DomainError> {
    if actor.role.is_some_and(Role::is_facility_role) && actor.facility_id == Some(facility_id) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the facility's own users report for it"))
    }
}

/// The country a country-scoped listing shows: the actor's own; the admin must name one or
/// sees all (`None`). Facility-role users see their own country's shared registers.
pub fn country_scope(actor: &Actor, requested: Option<&str>) -> Result<Option<String>, DomainError> {
    // Country codes are stored upper-case; `kz` asks for KZ.
    let requested = requested.map(str::to_ascii_uppercase);
    match (actor.role, requested) {
        (Some(Role::Admin), r) => Ok(r),
        (Some(Role::Regional), _) => Err(DomainError::forbidden("the regional role reads cross-border aggregates only")),
        (_, Some(r)) if actor.country_code.as_deref() == Some(r.as_str()) => Ok(Some(r)),
        (_, Some(r)) => Err(DomainError::forbidden(format!("no access to data of country {r}"))),
        (_, None) => Ok(actor.country_code.clone()),
    }
}
