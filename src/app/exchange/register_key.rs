//! The hub's admin registers a country instance's Ed25519 public key (64 hex digits); from
//! then on the hub accepts that country's packages signed with it. A country may hold more
//! than one key (a new one while the old is still in use).

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::exchange::ExchangeKey;
use crate::exchange::signing;

#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub public_key: String,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<ExchangeKey>> {
    let country = input.country_code.to_ascii_uppercase();
    if Country::find(conn, &country)?.is_none() {
        return Err(DomainError::field("/country_code", "unknown country").into());
    }
    let public_key = signing::parse_public_key(&input.public_key)
        .ok_or_else(|| DomainError::field("/public_key", "must be an Ed25519 public key, 64 hex digits"))?;
    let key = ExchangeKey::register(conn, &country, &public_key, actor.user_id)
        .map_err(unique_violation_as(DomainError::new(ProblemCode::ExchangeKeyExists, "this public key is already registered")))?;
    let audit = AuditEntry::new(
        AuditAction::RegisterExchangeKey,
        ResourceType::ExchangeKey,
        key.id,
        Some(&country),
        json!({"public_key": hex::encode(&key.public_key)}),
    );
    Ok(Outcome::done(key, audit))
}
