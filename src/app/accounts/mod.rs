//! Accounts: the users the admin creates, deactivates, activates and resets; the password a
//! user changes; the API keys an admin or regulator issues to integrations and revokes.

pub mod change_password;
pub mod create_user;
pub mod issue_api_key;
pub mod reset_password;
pub mod revoke_api_key;
pub mod set_language;
pub mod set_user_active;

use crate::app::error::{AppResult, DomainError};
use crate::db::enums::Role;
use crate::db::models::api_key::ApiKey;
use crate::db::models::audit_event::Actor;
use crate::domain::ids::UserId;

/// A key and the reporting role its principal acts with.
#[derive(Debug)]
pub struct KeyWithRole {
    pub key: ApiKey,
    pub role: Role,
}

/// The signed-in user behind `actor` (403 for an actor without one).
fn user_id(actor: &Actor) -> AppResult<UserId> {
    Ok(actor.user_id.ok_or_else(|| DomainError::forbidden("only a signed-in user may do this"))?)
}
