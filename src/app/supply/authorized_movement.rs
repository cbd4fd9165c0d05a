//! The refusal of a movement against an authorization (an import receipt, an export
//! shipment): the shared judgement of `domain::authorization` on the facility's local day,
//! answered with the direction's own refusal code and words.

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::db::enums::RefusalCode;
use crate::db::models::country::Country;
use crate::db::models::facility::Facility;
use crate::domain::authorization::{Breach, Terms, judge};
use crate::domain::period::local_day;

/// Which way the units move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Import,
    Export,
}

/// `None` when `units` may move at `at` against `terms` by `facility`; otherwise the refusal
/// code to record and the problem to answer. Validity and licences run to the end of the
/// facility's local day.
pub fn refusal(
    conn: &mut PgConnection,
    direction: Direction,
    facility: &Facility,
    terms: &Terms,
    at: DateTime<Utc>,
    units: i64,
) -> AppResult<Option<(RefusalCode, DomainError)>> {
    let day = local_day(Country::zone_of(conn, &facility.country_code)?, at);
    // Each direction records its own refusal codes; the problem codes are shared.
    let (what, who, left, codes) = match direction {
        Direction::Import => (
            "authorization",
            "importer",
            "remain",
            [RefusalCode::AuthorizationNotValid, RefusalCode::LicenceExpired, RefusalCode::AuthorizationExceeded],
        ),
        Direction::Export => (
            "export authorization",
            "exporter",
            "remain to be exported",
            [RefusalCode::ExportAuthorizationNotValid, RefusalCode::ExportLicenceExpired, RefusalCode::ExportAuthorizationExceeded],
        ),
    };
    Ok(judge(terms, day, facility.licence_valid_until, units).map(|breach| match breach {
        Breach::NotValid => (
            codes[0],
            DomainError::new(ProblemCode::AuthorizationNotValid, format!("the {what} is valid from {} to {}", terms.valid_from, terms.valid_until)),
        ),
        Breach::LicenceExpired => {
            (codes[1], DomainError::new(ProblemCode::LicenceExpired, format!("the {who}'s licence expired on {}", facility.licence_valid_until)))
        }
        Breach::Exceeded { remaining } => (
            codes[2],
            DomainError::new(ProblemCode::AuthorizationExceeded, format!("only {remaining} of {} authorized units {left}", terms.authorized_units))
                .with("remaining_units", remaining),
        ),
    }))
}
