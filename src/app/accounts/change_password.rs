//! A user changes its own password, its current one verified by the caller: every token
//! issued before stops working and a reset's forced change ends. Refused for an API key,
//! which has no password, and for a new password equal to the current one.

use diesel::PgConnection;
use serde_json::json;

use crate::app::accounts::user_id;
use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::user::User;

#[derive(Debug, Clone)]
pub struct Input {
    /// The new password, hashed by the caller once the current one was verified.
    pub password_hash: String,
}

/// 403 for an API key: it has no password.
pub fn admit(actor: &Actor) -> Result<(), DomainError> {
    if actor.api_key_id.is_some() {
        return Err(DomainError::forbidden("an API key has no password"));
    }
    Ok(())
}

/// The new password must differ from the current one (checked before either is hashed).
pub fn check_new_password(current: &str, new: &str) -> Result<(), DomainError> {
    if new == current {
        return Err(DomainError::field("/new_password", "must differ from the current password"));
    }
    Ok(())
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<User>> {
    let user = User::set_password(conn, user_id(actor)?, &input.password_hash, false)?;
    let audit = AuditEntry::new(AuditAction::ChangePassword, ResourceType::User, user.id, user.country_code.as_deref(), json!({}));
    Ok(Outcome::done(user, audit))
}
