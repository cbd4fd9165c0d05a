//! The admin replaces the adequacy bands of S-DDD per million inhabitants per day; refused
//! unless the bands tile [0, ∞). The audit entry keeps the bands before and after.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, FieldError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::reference::AdequacyBand;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::schema::adequacy_bands as b;

/// A checked request: the bands sorted, the first from 0, each starting where the one
/// before ends, only the top one unbounded.
#[derive(Debug, Clone)]
pub struct Input {
    pub bands: Vec<AdequacyBand>,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(bands: Vec<AdequacyBand>) -> Result<Input, DomainError> {
        check_bands(&bands)?;
        Ok(Input { bands })
    }
}

fn check_bands(bands: &[AdequacyBand]) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let mut expected_min = bigdecimal::BigDecimal::from(0);
    for (i, band) in bands.iter().enumerate() {
        if band.min_sddd.0 != expected_min {
            errors.push(FieldError::at(format!("/bands/{i}/min_sddd"), format!("must be {expected_min}, where the band before ends")));
        }
        match (&band.max_sddd, i + 1 == bands.len()) {
            (None, true) => {}
            (None, false) => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "only the top band is unbounded")),
            (Some(_), true) => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "the top band must be unbounded (null)")),
            (Some(max), false) if max.0 <= band.min_sddd.0 => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "must be above min_sddd")),
            (Some(max), false) if !max.fits(14, 4) => {
                errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "at most 10 digits before the point and 4 decimals"))
            }
            (Some(max), false) => expected_min = max.0.clone(),
        }
        if !band.code.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
            errors.push(FieldError::at(format!("/bands/{i}/code"), "use lower-case letters and '_'"));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::validation(errors)) }
}

/// The bands after the change, from the lowest.
pub fn execute(conn: &mut PgConnection, _actor: &Actor, input: Input) -> AppResult<Outcome<Vec<AdequacyBand>>> {
    let before = AdequacyBand::all(conn)?;
    diesel::delete(b::table).execute(conn)?;
    for band in &input.bands {
        diesel::insert_into(b::table)
            .values((
                b::code.eq(&band.code),
                b::label.eq(&band.label),
                b::min_sddd.eq(&band.min_sddd.0),
                b::max_sddd.eq(band.max_sddd.as_ref().map(|m| m.0.clone())),
                b::is_finding.eq(band.is_finding),
                b::source.eq(&band.source),
                b::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
    }
    let audit = AuditEntry {
        action: AuditAction::ReplaceAdequacyBands,
        resource: ResourceType::AdequacyBands,
        // The bands are one table, not one record.
        resource_id: None,
        country_code: None,
        details: json!({"before": before, "after": input.bands}),
    };
    Ok(Outcome::done(AdequacyBand::all(conn)?, audit))
}
