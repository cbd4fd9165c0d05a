//! The ministry or regulator of a country records its deaths of one year by cause (cancer,
//! HIV/AIDS and any other cause it chooses) with their source, replacing the figures of
//! that year; the audit entry keeps the previous ones. The morbidity-based estimate
//! proposal reads them.

use std::collections::BTreeSet;

use chrono::Utc;
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::deaths::DeathsByCause;

/// One cause of death and its count.
#[derive(Debug, Clone)]
pub struct Cause {
    pub cause: String,
    pub deaths: i64,
}

/// A checked request: at least one cause, each a code of lower-case letters, digits and '_'
/// (starting with a letter), listed once, with a count not negative.
#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub year: i32,
    pub causes: Vec<Cause>,
    pub source: String,
}

/// Whether `code` is a cause code: `^[a-z][a-z0-9_]{0,62}$`.
fn is_cause_code(code: &str) -> bool {
    code.len() <= 63
        && code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(country_code: &str, year: i32, causes: Vec<Cause>, source: String) -> Result<Input, DomainError> {
        let mut errors = Vec::new();
        if causes.is_empty() {
            errors.push(FieldError::at("/causes", "list at least one cause"));
        }
        let mut seen = BTreeSet::new();
        for (i, c) in causes.iter().enumerate() {
            if !is_cause_code(&c.cause) {
                errors.push(FieldError::at(
                    format!("/causes/{i}/cause"),
                    "use lower-case letters, digits and '_', starting with a letter (e.g. cancer, hiv_aids)",
                ));
            } else if !seen.insert(c.cause.clone()) {
                errors.push(FieldError::at(format!("/causes/{i}/cause"), "is listed twice"));
            }
            if c.deaths < 0 {
                errors.push(FieldError::at(format!("/causes/{i}/deaths"), "must not be negative"));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::validation(errors));
        }
        Ok(Input { country_code: country_code.trim().to_uppercase(), year, causes, source: source.trim().to_owned() })
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Vec<DeathsByCause>>> {
    let country = Country::find(conn, &input.country_code)?.ok_or_else(|| DomainError::not_found("country"))?;
    policy::check_country(actor, &country.code)?;
    let previous = DeathsByCause::of_year(conn, &country.code, input.year)?;
    let now = Utc::now();
    let rows: Vec<DeathsByCause> = input
        .causes
        .iter()
        .map(|c| DeathsByCause {
            country_code: country.code.clone(),
            year: input.year,
            cause: c.cause.clone(),
            deaths: c.deaths,
            source: input.source.clone(),
            recorded_by: actor.user_id,
            recorded_at: now,
        })
        .collect();
    DeathsByCause::replace(conn, &country.code, input.year, &rows)?;
    let audit = AuditEntry::new(
        AuditAction::PutCountryDeaths,
        ResourceType::CountryDeaths,
        format!("{}/{}", country.code, input.year),
        Some(&country.code),
        json!({
            "year": input.year,
            "source": input.source,
            "causes": input.causes.iter().map(|c| json!({"cause": c.cause, "deaths": c.deaths})).collect::<Vec<_>>(),
            "previous": previous.iter().map(|p| json!({"cause": p.cause, "deaths": p.deaths, "source": p.source})).collect::<Vec<_>>(),
        }),
    );
    Ok(Outcome::done(DeathsByCause::of_year(conn, &country.code, input.year)?, audit))
}
