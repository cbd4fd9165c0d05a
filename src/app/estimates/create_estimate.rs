//! The ministry or regulator of a country records an annual or supplementary estimate of a
//! substance for a year; refused for an unknown country or substance, and with
//! `annual_estimate_exists` for a second annual estimate of the same year.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, EstimateKind, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::estimate::{Estimate, NewEstimate};
use crate::db::models::substance::Substance;
use crate::domain::decimal::Decimal;
use crate::domain::ids::SubstanceId;

/// Made by `new` (`country_code` trimmed and upper-case), then `check`ed.
#[derive(Debug, Clone)]
pub struct Input {
    pub country_code: String,
    pub substance_id: SubstanceId,
    pub year: i32,
    pub kind: EstimateKind,
    pub quantity_g: Decimal,
    pub reference: Option<String>,
}

impl Input {
    pub fn new(
        country_code: &str,
        substance_id: SubstanceId,
        year: i32,
        kind: EstimateKind,
        quantity_g: Decimal,
        reference: Option<String>,
    ) -> Input {
        Input { country_code: country_code.trim().to_uppercase(), substance_id, year, kind, quantity_g, reference }
    }

    /// Checks what the request's shape cannot say: the quantity is positive, below 10^14 g,
    /// with at most 6 decimals.
    pub fn check(self) -> Result<Input, DomainError> {
        if self.quantity_g.0 <= 0 || !self.quantity_g.fits(20, 6) {
            return Err(DomainError::field("/quantity_g", "must be greater than 0, below 100 000 000 000 000 g, with at most 6 decimals"));
        }
        Ok(self)
    }
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Estimate>> {
    policy::check_country(actor, &input.country_code)?;
    if Country::find(conn, &input.country_code)?.is_none() {
        return Err(DomainError::field("/country_code", "unknown country").into());
    }
    if Substance::find(conn, input.substance_id)?.is_none() {
        return Err(DomainError::field("/substance_id", "unknown substance").into());
    }
    let estimate = Estimate::create(
        conn,
        &NewEstimate {
            country_code: &input.country_code,
            substance_id: input.substance_id,
            year: input.year,
            kind: input.kind,
            quantity_g: input.quantity_g.into_inner(),
            reference: input.reference.as_deref(),
            created_by: actor.user_id,
        },
    )
    .map_err(unique_violation_as(
        DomainError::new(ProblemCode::AnnualEstimateExists, "this year already has an annual estimate; add a supplementary one")
            .with_error(FieldError::at("/kind", "an annual estimate exists for this country, substance and year")),
    ))?;
    let audit = AuditEntry::new(
        AuditAction::CreateEstimate,
        ResourceType::Estimate,
        estimate.id,
        Some(&input.country_code),
        json!({"substance_id": estimate.substance_id, "year": estimate.year, "kind": estimate.kind, "quantity_g": estimate.quantity_g.to_string()}),
    );
    Ok(Outcome::done(estimate, audit))
}
