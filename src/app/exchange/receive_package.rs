//! The hub receives a signed package from a country's instance. In this order it refuses:
//! a schema version it does not read (`unsupported_schema_version`), a public key it has
//! not registered (`unknown_key`), a signature that does not hold over the canonical
//! package (`bad_signature`), a package for another country than its key's or the
//! credential's (`country_mismatch`), and a sequence number not above the last accepted
//! one (`stale_sequence`). The very package accepted before, sent again, is a replay: it is
//! answered as accepted and stored once. A package for a month already received supersedes
//! the earlier one, which is kept.
//!
//! The package's shape (`crate::exchange::package`, unknown members refused) has been
//! checked by the body extractor before the command runs.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::models::audit_event::Actor;
use crate::db::models::exchange::{ExchangeKey, NewReceivedPackage, ReceivedPackage};
use crate::domain::ids::ExchangePackageId;
use crate::exchange::package::{SCHEMA_VERSION, SignedPackage};
use crate::exchange::signing;

/// What the hub did with a package.
#[derive(Debug, Clone)]
pub struct Received {
    pub package: ReceivedPackage,
    /// The same package had been accepted before: nothing was stored.
    pub replayed: bool,
    /// The package of the same month it superseded.
    pub supersedes: Option<ExchangePackageId>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, signed: SignedPackage) -> AppResult<Outcome<Received>> {
    let package = &signed.package;
    if package.schema_version != SCHEMA_VERSION {
        return Err(DomainError::new(
            ProblemCode::UnsupportedSchemaVersion,
            format!("this hub reads package schema version {SCHEMA_VERSION}, not {}", package.schema_version),
        )
        .with_error(crate::app::error::FieldError::at("/package/schema_version", format!("must be {SCHEMA_VERSION}")))
        .into());
    }
    let month = package.month().ok_or_else(|| DomainError::field("/package/month", "must be a month, YYYY-MM"))?;
    let public_key = signing::parse_public_key(&signed.public_key)
        .ok_or_else(|| DomainError::field("/public_key", "must be an Ed25519 public key, 64 hex digits"))?;
    let key = ExchangeKey::by_public_key(conn, &public_key)?
        .ok_or_else(|| DomainError::new(ProblemCode::UnknownKey, "no country's key registered on this hub is this public key"))?;
    if signing::verify(&public_key, package, &signed.signature).is_err() {
        return Err(DomainError::new(
            ProblemCode::BadSignature,
            "the signature does not hold over this package: it was changed, or signed with another key",
        )
        .into());
    }
    if key.country_code != package.country {
        return Err(DomainError::new(
            ProblemCode::CountryMismatch,
            format!("the key is registered for {}, the package is for {}", key.country_code, package.country),
        )
        .into());
    }
    if actor.country_code.as_deref() != Some(package.country.as_str()) {
        return Err(DomainError::new(ProblemCode::CountryMismatch, "the credential is not of the package's country").into());
    }
    let signature = hex::decode(&signed.signature).unwrap_or_default();
    let last = ReceivedPackage::last_sequence(conn, &package.country)?;
    if let Some(earlier) = ReceivedPackage::by_sequence(conn, &package.country, package.sequence)?
        && earlier.signature == signature
    {
        return Ok(Outcome::unchanged(Received { package: earlier, replayed: true, supersedes: None }));
    }
    if let Some(last) = last
        && package.sequence <= last
    {
        return Err(DomainError::new(
            ProblemCode::StaleSequence,
            format!("sequence {} is not above {last}, the last accepted from {}", package.sequence, package.country),
        )
        .with("last_sequence", last)
        .into());
    }
    let stored = serde_json::to_value(package).map_err(|e| crate::app::error::AppError::Internal(e.into()))?;
    let (row, supersedes) = ReceivedPackage::insert_superseding(
        conn,
        &NewReceivedPackage {
            country_code: &package.country,
            month: month.first_day(),
            sequence: package.sequence,
            schema_version: package.schema_version,
            key_id: key.id,
            package: stored,
            signature: &signature,
            received_by: actor.user_id,
        },
    )?;
    let audit = AuditEntry::new(
        AuditAction::ReceiveExchangePackage,
        ResourceType::ExchangePackage,
        row.id,
        Some(&package.country),
        json!({"month": package.month, "sequence": package.sequence, "supersedes": supersedes, "withheld": package.withheld}),
    );
    Ok(Outcome::done(Received { package: row, replayed: false, supersedes }, audit))
}
