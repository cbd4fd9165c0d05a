//! The admin sets the value and source of a numeric parameter of the analytics; refused for
//! a negative value or one the column cannot hold, and 404 for an unknown parameter. The
//! audit entry keeps the value before; a parameter set so is no longer a shipped default.

use bigdecimal::BigDecimal;
use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::analytics_parameter::AnalyticsParameter;
use crate::db::models::audit_event::Actor;
use crate::db::schema::analytics_parameters as p;
use crate::domain::decimal::Decimal;

/// A checked request: `value` is not negative, below 10^12, with at most 6 decimals.
#[derive(Debug, Clone)]
pub struct Input {
    pub code: String,
    pub value: Decimal,
    pub source: String,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(code: String, value: Decimal, source: String) -> Result<Input, DomainError> {
        if value.0 < 0 || !value.fits(18, 6) {
            return Err(DomainError::field("/value", "must not be negative, below 10^12, with at most 6 decimals"));
        }
        Ok(Input { code, value, source })
    }
}

/// Every parameter after the change, by code.
pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<Vec<AnalyticsParameter>>> {
    let before: Option<BigDecimal> = p::table.find(&input.code).select(p::value).for_update().first(conn).optional()?;
    let Some(before) = before else { return Err(DomainError::not_found("parameter").into()) };
    diesel::update(p::table.find(&input.code))
        .set((p::value.eq(&input.value.0), p::source.eq(&input.source), p::is_default.eq(false), p::updated_at.eq(Utc::now())))
        .execute(conn)?;
    let audit = AuditEntry::new(
        AuditAction::UpdateAnalyticsParameter,
        ResourceType::AnalyticsParameter,
        input.code.clone(),
        None,
        json!({"before": before.to_string(), "after": input.value, "source": input.source}),
    );
    Ok(Outcome::done(AnalyticsParameter::all(conn)?, audit))
}
