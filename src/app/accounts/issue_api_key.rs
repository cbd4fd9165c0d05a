//! An admin, or the regulator of the facility's country, issues an API key for one facility:
//! the key acts with the facility's reporting role and scope through a principal user row of
//! its own (no usable password, not listed under `/users`) until it expires or is revoked.
//! Only the secret's SHA-256 is stored; the secret itself never reaches the command.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::accounts::{KeyWithRole, user_id};
use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::api_key::{ApiKey, NewApiKey};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::user::{NewUser, User};
use crate::domain::ids::FacilityId;

/// The password hash of a key's principal: not a PHC string, so no password ever matches.
const NO_PASSWORD: &str = "!api-key";

/// A checked request: the name trimmed, the expiry in the future.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub facility_id: FacilityId,
    pub expires_at: Option<DateTime<Utc>>,
    /// The generated secret's first characters, to recognise it.
    pub prefix: String,
    pub secret_sha256: [u8; 32],
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(
        name: &str,
        facility_id: FacilityId,
        expires_at: Option<DateTime<Utc>>,
        prefix: String,
        secret_sha256: [u8; 32],
    ) -> Result<Input, DomainError> {
        if expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err(DomainError::field("/expires_at", "must be in the future"));
        }
        Ok(Input { name: name.trim().to_owned(), facility_id, expires_at, prefix, secret_sha256 })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<KeyWithRole>> {
    let facility = Facility::find(conn, input.facility_id)?.ok_or_else(|| DomainError::field("/facility_id", "unknown facility"))?;
    policy::check_country(actor, &facility.country_code)?;
    let created_by = user_id(actor)?;
    let role = facility.kind.reporting_role();
    let username = format!("key-{}", crate::config::random_hex(8));
    let principal = User::create(
        conn,
        &NewUser {
            username: &username,
            password_hash: NO_PASSWORD,
            role,
            country_code: Some(&facility.country_code),
            facility_id: Some(facility.id),
        },
    )?;
    let issued = ApiKey::create(
        conn,
        &NewApiKey {
            name: &input.name,
            user_id: principal.id,
            facility_id: facility.id,
            country_code: &facility.country_code,
            prefix: &input.prefix,
            secret_sha256: &input.secret_sha256,
            created_by: Some(created_by),
            expires_at: input.expires_at,
        },
    )?;
    let audit = AuditEntry::new(
        AuditAction::CreateApiKey,
        ResourceType::ApiKey,
        issued.id,
        Some(&facility.country_code),
        json!({"name": issued.name, "facility_id": facility.id, "role": role, "prefix": issued.prefix, "principal_user_id": principal.id, "expires_at": issued.expires_at}),
    );
    Ok(Outcome::done(KeyWithRole { key: issued, role }, audit))
}
