//! Who may do what: `POLICY`, one entry per operation of the API (roles × scope), enforced
//! for the role when the caller is authenticated (before any body or query is read), and
//! the scope checks every command and query applies to its actor.
//!
//! Country-level data (reports, registers, flags) is for the admin everywhere and for the
//! regulator and ministry of the country; a facility-role user (pharmacy, wholesaler)
//! never passes a country-level check, it reaches only its own facility.

use crate::app::error::DomainError;
use crate::db::enums::Role;
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::domain::ids::FacilityId;

/// How far a role's grant on an operation reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every country (or data that belongs to no country: reference lists, one's own account).
    Any,
    /// The country of the user's account.
    OwnCountry,
    /// The facility of the user's account.
    OwnFacility,
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, without a credential.
    Public,
    /// A signed-in user of one of these roles, each within its scope.
    Roles(&'static [(Role, Scope)]),
}

impl Access {
    /// The scope `role` is granted, if any.
    pub fn scope_of(self, role: Role) -> Option<Scope> {
        match self {
            Access::Public => Some(Scope::Any),
            Access::Roles(grants) => grants.iter().find(|(r, _)| *r == role).map(|(_, s)| *s),
        }
    }
}

use Role::{Admin as A, Exchange as X, Ministry as M, Pharmacy as P, Regional as G, Regulator as R, Wholesaler as W};
use Scope::{Any, OwnCountry as InCountry, OwnFacility as AtFacility};

const EVERYONE: Access = Access::Roles(&[(A, Any), (R, Any), (M, Any), (W, Any), (P, Any), (G, Any)]);
const ADMIN: Access = Access::Roles(&[(A, Any)]);
/// The country's oversight: reports, estimates, registers of the country.
const OVERSIGHT: Access = Access::Roles(&[(A, Any), (R, InCountry), (M, InCountry)]);
const REGULATOR: Access = Access::Roles(&[(A, Any), (R, InCountry)]);
const REGULATOR_ONLY: Access = Access::Roles(&[(R, InCountry)]);
/// What a facility reports about itself.
const REPORTING: Access = Access::Roles(&[(W, AtFacility), (P, AtFacility)]);
/// A facility's own records, seen by it and by the country's oversight.
const FACILITY_RECORDS: Access = Access::Roles(&[(A, Any), (R, InCountry), (M, InCountry), (W, AtFacility), (P, AtFacility)]);
/// Supply-chain records, seen by the regulator and the facilities in them.
const SUPPLY_RECORDS: Access = Access::Roles(&[(A, Any), (R, InCountry), (W, AtFacility), (P, AtFacility)]);

/// Every operation of the API (by OpenAPI `operationId`) and who may call it.
pub const POLICY: &[(&str, Access)] = &[
    ("health", Access::Public),
    ("ready", Access::Public),
    // Guarded by its own token (`TAROZI_METRICS_TOKEN`), not by a user's.
    ("metrics", Access::Public),
    ("login", Access::Public),
    ("me", EVERYONE),
    ("change_password", EVERYONE),
    ("list_users", ADMIN),
    ("create_user", ADMIN),
    ("activate_user", ADMIN),
    ("deactivate_user", ADMIN),
    ("reset_user_password", ADMIN),
    ("list_api_keys", REGULATOR),
    ("create_api_key", REGULATOR),
    ("revoke_api_key", REGULATOR),
    ("list_audit_events", REGULATOR),
    ("list_countries", EVERYONE),
    ("list_regions", EVERYONE),
    ("create_region", OVERSIGHT),
    ("put_region_population", OVERSIGHT),
    ("list_substances", EVERYONE),
    ("create_substance", ADMIN),
    ("update_substance", ADMIN),
    ("list_products", EVERYONE),
    ("create_product", ADMIN),
    ("list_facilities", Access::Roles(&[(A, Any), (R, InCountry), (M, InCountry), (W, InCountry), (P, InCountry)])),
    ("create_facility", REGULATOR),
    ("get_facility", FACILITY_RECORDS),
    ("update_facility", REGULATOR),
    ("list_estimates", OVERSIGHT),
    ("create_estimate", Access::Roles(&[(R, InCountry), (M, InCountry)])),
    ("get_country_deaths", OVERSIGHT),
    ("put_country_deaths", Access::Roles(&[(R, InCountry), (M, InCountry)])),
    ("list_import_authorizations", Access::Roles(&[(A, Any), (R, InCountry), (W, AtFacility)])),
    ("create_import_authorization", REGULATOR_ONLY),
    ("record_import_receipt", Access::Roles(&[(W, AtFacility)])),
    ("list_export_authorizations", Access::Roles(&[(A, Any), (R, InCountry), (W, AtFacility)])),
    ("create_export_authorization", REGULATOR_ONLY),
    ("record_export_shipment", Access::Roles(&[(W, AtFacility)])),
    ("list_transfers", SUPPLY_RECORDS),
    ("create_transfer", REPORTING),
    ("confirm_transfer_receipt", REPORTING),
    ("get_stock", FACILITY_RECORDS),
    ("list_stock_events", SUPPLY_RECORDS),
    ("record_stock_event", REPORTING),
    ("reverse_stock_event", REPORTING),
    ("record_inventory_count", REPORTING),
    ("list_facility_dispensings", Access::Roles(&[(A, Any), (R, InCountry), (P, AtFacility)])),
    // Wholesalers pass the role check and are refused `not_a_dispensing_facility`.
    ("record_dispensings", REPORTING),
    ("list_dispensings", REGULATOR),
    ("close_reporting_period", REPORTING),
    ("list_reporting_periods", OVERSIGHT),
    ("get_availability", OVERSIGHT),
    ("get_consumption", OVERSIGHT),
    ("get_estimate_use", OVERSIGHT),
    ("get_estimate_proposal", OVERSIGHT),
    ("get_stock_outs", OVERSIGHT),
    ("get_mass_balance", OVERSIGHT),
    ("get_regional", Access::Roles(&[(A, Any), (R, Any), (M, Any), (G, Any)])),
    ("list_adequacy_bands", Access::Roles(&[(A, Any), (R, Any), (M, Any), (G, Any)])),
    ("replace_adequacy_bands", ADMIN),
    ("list_analytics_parameters", Access::Roles(&[(A, Any), (R, Any), (M, Any)])),
    ("update_analytics_parameter", ADMIN),
    ("get_form_c", OVERSIGHT),
    ("get_form_a", OVERSIGHT),
    ("list_rules", OVERSIGHT),
    ("update_rule", REGULATOR_ONLY),
    ("create_scan", REGULATOR_ONLY),
    ("get_scan", REGULATOR_ONLY),
    ("list_flags", FACILITY_RECORDS),
    ("get_flag", FACILITY_RECORDS),
    ("update_flag", REGULATOR_ONLY),
    ("create_flag_comment", REGULATOR_ONLY),
    // The regional exchange: the country's regulator decides what is shared; on the hub,
    // its admin registers the countries' keys and each country's `exchange` credential
    // delivers that country's packages.
    ("get_exchange_policy", REGULATOR_ONLY),
    ("put_exchange_policy", REGULATOR_ONLY),
    ("list_exchange_keys", ADMIN),
    ("register_exchange_key", ADMIN),
    ("receive_exchange_package", Access::Roles(&[(X, InCountry)])),
];

/// Who may call `operation`, if it is in the policy.
pub fn access_of(operation: &str) -> Option<Access> {
    POLICY.iter().find(|(op, _)| *op == operation).map(|(_, access)| *access)
}

/// 403 unless `role` is granted `operation` (an operation missing from the policy is refused).
pub fn admit(role: Role, operation: &str) -> Result<Scope, DomainError> {
    match access_of(operation) {
        Some(access) => access.scope_of(role).ok_or_else(|| DomainError::forbidden(format!("the {role} role may not do this"))),
        None => {
            tracing::error!(operation, "operation without an entry in the authorization policy: refused");
            Err(DomainError::forbidden("this operation is not open to anyone"))
        }
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
pub fn check_reports_for(actor: &Actor, facility_id: FacilityId) -> Result<(), DomainError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_document_has_one_entry_and_every_entry_is_an_operation() {
        let spec = crate::openapi::spec();
        let mut operations: Vec<String> = spec
            .paths
            .paths
            .values()
            .flat_map(|item| [&item.get, &item.post, &item.put, &item.patch, &item.delete])
            .flatten()
            .filter_map(|op| op.operation_id.clone())
            .collect();
        operations.sort();
        let mut entries: Vec<String> = POLICY.iter().map(|(op, _)| (*op).to_owned()).collect();
        entries.sort();
        let before = entries.len();
        entries.dedup();
        assert_eq!(before, entries.len(), "an operation is listed twice");
        assert_eq!(operations, entries);
    }

    #[test]
    fn a_role_outside_the_grants_is_refused_and_the_scope_is_the_granted_one() {
        assert_eq!(admit(Role::Regulator, "create_import_authorization").ok(), Some(Scope::OwnCountry));
        assert_eq!(admit(Role::Admin, "list_users").ok(), Some(Scope::Any));
        assert_eq!(admit(Role::Wholesaler, "record_import_receipt").ok(), Some(Scope::OwnFacility));
        assert!(admit(Role::Pharmacy, "create_user").is_err());
        assert!(admit(Role::Admin, "create_import_authorization").is_err());
        assert!(admit(Role::Admin, "no_such_operation").is_err());
        assert_eq!(admit(Role::Regional, "login").ok(), Some(Scope::Any));
    }

    #[test]
    fn a_facility_user_never_passes_a_country_level_check() {
        let actor = |role, facility_id| Actor { role: Some(role), country_code: Some("KZ".into()), facility_id, ..Default::default() };
        assert!(check_country(&actor(Role::Pharmacy, Some(FacilityId(7))), "KZ").is_err());
        assert!(check_country(&actor(Role::Wholesaler, Some(FacilityId(7))), "KZ").is_err());
        assert!(check_country(&actor(Role::Regulator, None), "KZ").is_ok());
        assert!(check_country(&actor(Role::Ministry, None), "KZ").is_ok());
        assert!(check_country(&actor(Role::Regulator, None), "KG").is_err());
        assert!(check_country(&actor(Role::Regional, None), "KZ").is_err());
        assert!(check_country(&Actor { role: Some(Role::Admin), ..Default::default() }, "TJ").is_ok());
    }
}
