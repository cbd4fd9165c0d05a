//! The flag list within the actor's scope: a facility user sees its own facility's active
//! flags, the ministry availability flags with counts of the rest, the regulator and the
//! admin everything, shadow flags included when asked.

use diesel::PgConnection;

use crate::app::error::{AppResult, DomainError};
use crate::db::enums::{FlagStatus, Role, RuleCategory, RuleMode, Severity};
use crate::db::models::audit_event::Actor;
use crate::db::models::flag::{Flag, FlagFilter};

/// A page of flags and the counts of every flag the filter selects.
pub struct FlagPage {
    pub flags: Vec<Flag>,
    pub total: i64,
    pub counts: Vec<(String, Severity, FlagStatus, i64)>,
    /// Whether the actor sees the evidence of each flag.
    pub with_evidence: bool,
}

/// Flags of `filter` (its country already scoped; `mode` active unless asked) for `actor`.
pub fn execute(conn: &mut PgConnection, actor: &Actor, mut filter: FlagFilter, offset: i64, limit: i64) -> AppResult<FlagPage> {
    let role = actor.role;
    if role.is_some_and(Role::is_facility_role) {
        if filter.facility_id.is_some_and(|f| Some(f) != actor.facility_id) || filter.mode == Some(RuleMode::Shadow) {
            return Err(DomainError::forbidden("a facility user reaches only its own facility's flags").into());
        }
        filter.facility_id = actor.facility_id;
    }
    let ministry = role == Some(Role::Ministry);
    if ministry && filter.mode == Some(RuleMode::Shadow) {
        return Err(DomainError::forbidden("shadow flags are for the regulator").into());
    }
    let with_evidence = matches!(role, Some(Role::Admin | Role::Regulator | Role::Ministry));
    let counts = Flag::counts(conn, &filter)?;
    if ministry {
        if filter.category == Some(RuleCategory::Diversion) {
            return Ok(FlagPage { flags: Vec::new(), total: 0, counts, with_evidence });
        }
        filter.category = Some(RuleCategory::Availability);
    }
    let (flags, total) = Flag::page(conn, &filter, offset, limit)?;
    Ok(FlagPage { flags, total, counts, with_evidence })
}
