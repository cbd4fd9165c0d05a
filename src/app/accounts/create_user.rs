//! The admin creates a user: a facility role names its facility (the country is the
//! facility's), a country role its country, the admin and regional roles neither. Refused
//! with `username_taken` when the name is in use, with `validation_failed` when the scope
//! does not fit the role.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::facility::Facility;
use crate::db::models::user::{NewUser, User};
use crate::domain::ids::FacilityId;

/// A request whose username passed `check_username`, its password already hashed.
#[derive(Debug, Clone)]
pub struct Input {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub country_code: Option<String>,
    pub facility_id: Option<FacilityId>,
}

/// 3 to 64 characters: lower-case letters, digits, '.', '_', '-' (checked before the
/// password is hashed).
pub fn check_username(name: &str) -> Result<(), DomainError> {
    let valid = (3..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !valid {
        return Err(DomainError::field("/username", "use 3 to 64 characters: lower-case letters, digits, '.', '_', '-'"));
    }
    Ok(())
}

pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<User>> {
    let country = resolve_scope(conn, &input)?;
    let user = User::create(
        conn,
        &NewUser {
            username: &input.username,
            password_hash: &input.password_hash,
            role: input.role,
            country_code: country.as_deref(),
            facility_id: input.facility_id,
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::UsernameTaken, "that username is taken").with_error(FieldError::at("/username", "is taken")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateUser,
        ResourceType::User,
        user.id,
        user.country_code.as_deref(),
        json!({"username": user.username, "role": user.role, "facility_id": user.facility_id}),
    );
    Ok(Outcome::done(user, audit))
}

/// The country a new user is bound to, checking the role's scope rules.
fn resolve_scope(conn: &mut PgConnection, input: &Input) -> AppResult<Option<String>> {
    match input.role {
        Role::Admin | Role::Regional => {
            if input.country_code.is_some() {
                return Err(DomainError::field("/country_code", "must be absent for this role").into());
            }
            if input.facility_id.is_some() {
                return Err(DomainError::field("/facility_id", "must be absent for this role").into());
            }
            Ok(None)
        }
        Role::Regulator | Role::Ministry | Role::Exchange => {
            if input.facility_id.is_some() {
                return Err(DomainError::field("/facility_id", "must be absent for this role").into());
            }
            let code = input.country_code.clone().ok_or_else(|| DomainError::field("/country_code", "is required for this role"))?;
            if Country::find(conn, &code)?.is_none() {
                return Err(DomainError::field("/country_code", "unknown country").into());
            }
            Ok(Some(code))
        }
        Role::Pharmacy | Role::Wholesaler => {
            let id = input.facility_id.ok_or_else(|| DomainError::field("/facility_id", "is required for this role"))?;
            let facility = Facility::find(conn, id)?.ok_or_else(|| DomainError::field("/facility_id", "unknown facility"))?;
            if facility.kind.reporting_role() != input.role {
                return Err(DomainError::field(
                    "/role",
                    format!("a {} facility reports through the {} role", facility.kind, facility.kind.reporting_role()),
                )
                .into());
            }
            if let Some(code) = &input.country_code
                && code != &facility.country_code
            {
                return Err(DomainError::field("/country_code", "must be the facility's country").into());
            }
            Ok(Some(facility.country_code))
        }
    }
}
