//! The admin deactivates a user (its tokens stop working at once, it cannot log in) or
//! activates it again. Refused for the admin's own account (`cannot_deactivate_self`) and for
//! an API key's principal (`api_key_principal`: revoke the key instead); setting the flag to
//! what it is changes nothing.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::user::User;
use crate::domain::ids::UserId;

#[derive(Debug, Clone)]
pub struct Input {
    pub user_id: UserId,
    pub active: bool,
    /// Kept in the audit log.
    pub reason: Option<String>,
}

impl Input {
    /// Refuses the actor's own deactivation before anything is read.
    pub fn parse(actor: &Actor, user_id: UserId, active: bool, reason: Option<String>) -> Result<Input, DomainError> {
        if actor.user_id == Some(user_id) && !active {
            return Err(DomainError::new(ProblemCode::CannotDeactivateSelf, "an admin cannot deactivate its own account"));
        }
        Ok(Input { user_id, active, reason })
    }
}

pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<User>> {
    let Input { user_id: id, active, reason } = input;
    let before = User::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("user"))?;
    if User::is_api_key_principal(conn, id)? {
        return Err(DomainError::new(ProblemCode::ApiKeyPrincipal, "this user acts for an API key: revoke the key instead").into());
    }
    if before.active == active {
        return Ok(Outcome::unchanged(before));
    }
    let after = User::set_active(conn, id, active)?;
    let audit = AuditEntry::new(
        if active { AuditAction::ActivateUser } else { AuditAction::DeactivateUser },
        ResourceType::User,
        id,
        after.country_code.as_deref(),
        json!({"username": after.username, "active": active, "reason": reason}),
    );
    Ok(Outcome::done(after, audit))
}
