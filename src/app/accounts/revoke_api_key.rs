//! An admin, or the regulator of the key's country, revokes an API key: it answers 401 from
//! then on. Revoking a revoked key changes nothing.

use diesel::PgConnection;
use serde_json::json;

use crate::app::accounts::{KeyWithRole, user_id};
use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::models::api_key::ApiKey;
use crate::db::models::audit_event::Actor;
use crate::db::models::user::User;
use crate::domain::ids::ApiKeyId;

#[derive(Debug, Clone)]
pub struct Input {
    pub api_key_id: ApiKeyId,
    /// Why, for the audit log.
    pub reason: Option<String>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<KeyWithRole>> {
    let id = input.api_key_id;
    let before = ApiKey::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("API key"))?;
    policy::check_country(actor, &before.country_code)?;
    let role = User::find(conn, before.user_id)?.map_or(Role::Pharmacy, |u| u.role);
    if before.revoked_at.is_some() {
        return Ok(Outcome::unchanged(KeyWithRole { key: before, role }));
    }
    let after = ApiKey::revoke(conn, id, user_id(actor)?)?;
    let audit = AuditEntry::new(
        AuditAction::RevokeApiKey,
        ResourceType::ApiKey,
        id,
        Some(&after.country_code),
        json!({"name": after.name, "facility_id": after.facility_id, "prefix": after.prefix, "reason": input.reason}),
    );
    Ok(Outcome::done(KeyWithRole { key: after, role }, audit))
}
