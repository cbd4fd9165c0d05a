//! Who may read one flag, and whether with its evidence: the regulator of its country and
//! the admin everything; the ministry availability findings only; a facility's users the
//! active flags about their own facility, without evidence.

use crate::app::error::DomainError;
use crate::app::policy;
use crate::db::enums::{Role, RuleCategory, RuleMode};
use crate::db::models::audit_event::Actor;
use crate::db::models::flag::Flag;

/// `Ok(with_evidence)` when `actor` may read `flag`, 403 otherwise.
pub fn access(actor: &Actor, flag: &Flag) -> Result<bool, DomainError> {
    match actor.role {
        Some(Role::Admin) => Ok(true),
        Some(Role::Regulator) => policy::check_country(actor, &flag.country_code).map(|_| true),
        Some(Role::Ministry) if flag.category == RuleCategory::Availability => policy::check_country(actor, &flag.country_code).map(|_| true),
        Some(Role::Ministry) => Err(DomainError::forbidden("the ministry reads diversion flags as counts only")),
        Some(Role::Pharmacy | Role::Wholesaler)
            if flag.facility_id.is_some() && flag.facility_id == actor.facility_id && flag.mode == RuleMode::Active =>
        {
            Ok(false)
        }
        _ => Err(DomainError::forbidden("no access to this flag")),
    }
}
