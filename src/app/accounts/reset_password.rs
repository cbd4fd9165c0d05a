//! The admin sets a temporary password for a user and forces a change at next login: every
//! token issued before stops working. Refused for an API key's principal
//! (`api_key_principal`), which has no password.

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
    /// The temporary password, hashed by the caller (slow, outside the transaction).
    pub password_hash: String,
}

pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<User>> {
    let id = input.user_id;
    User::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("user"))?;
    if User::is_api_key_principal(conn, id)? {
        return Err(DomainError::new(ProblemCode::ApiKeyPrincipal, "this user acts for an API key and has no password").into());
    }
    let user = User::set_password(conn, id, &input.password_hash, true)?;
    let audit = AuditEntry::new(AuditAction::ResetPassword, ResourceType::User, id, user.country_code.as_deref(), json!({"username": user.username}));
    Ok(Outcome::done(user, audit))
}
