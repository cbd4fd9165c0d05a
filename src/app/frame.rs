//! The write frame: every command runs through `run`, which opens the transaction, honours
//! the request's idempotency key, records the command's audit entry and the attempts it
//! refused (the one place `refused_attempts` are written), and stores the rendered answer
//! for replay — all in the same transaction.
//!
//! Idempotency keys are remembered for a retention period (`TAROZI_IDEMPOTENCY_RETENTION_DAYS`,
//! 7 days by default): an older key counts as never used, and `serve` purges old keys
//! hourly (`startup::spawn_maintenance`). A replay with the same body returns the first
//! answer; the same key with another body is refused with `idempotency_key_reused`.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, QueryResult};
use serde_json::Value;

use crate::app::error::{AppError, AppResult, DomainError, ProblemCode};
use crate::db::enums::{AuditAction, RefusalCode, ResourceType};
use crate::db::models::audit_event::{Actor, AuditEvent};
use crate::db::models::idempotency_key::IdempotencyKey;
use crate::db::models::refused_attempt::{NewRefusedAttempt, RefusedAttempt};
use crate::domain::ids::{FacilityId, ProductId, UserId};

/// The audit entry of a write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: AuditAction,
    pub resource: ResourceType,
    pub resource_id: Option<String>,
    /// The country the write concerns (the actor's when `None`).
    pub country_code: Option<String>,
    pub details: Value,
}

impl AuditEntry {
    pub fn new(action: AuditAction, resource: ResourceType, resource_id: impl ToString, country_code: Option<&str>, details: Value) -> Self {
        AuditEntry { action, resource, resource_id: Some(resource_id.to_string()), country_code: country_code.map(str::to_owned), details }
    }

    /// Appends the entry for `actor` (outside a command: start-up, background jobs).
    pub fn record(&self, conn: &mut PgConnection, actor: &Actor) -> QueryResult<()> {
        AuditEvent::record(conn, actor, self.action, self.resource, self.resource_id.clone(), self.country_code.as_deref(), self.details.clone())
    }
}

/// A write refused for a reason that matters to oversight, kept as evidence.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub code: RefusalCode,
    pub country_code: String,
    pub facility_id: Option<FacilityId>,
    pub product_id: Option<ProductId>,
    /// When the refused event would have happened.
    pub occurred_at: DateTime<Utc>,
    pub details: Value,
}

/// What a command did.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Written: the output, its audit entry and refusals made along the way (records of a
    /// batch refused while the others were written).
    Done { output: T, audit: Option<AuditEntry>, refusals: Vec<Refusal> },
    /// Refused: only the attempt is recorded, the transaction commits, and the answer is
    /// `error` with the attempt's `refused_attempt_id`.
    Refused(Refusal, DomainError),
}

impl<T> Outcome<T> {
    /// Written, with its audit entry.
    pub fn done(output: T, audit: AuditEntry) -> Self {
        Outcome::Done { output, audit: Some(audit), refusals: Vec::new() }
    }

    /// Nothing was written (the request asked for what already holds): no audit entry.
    pub fn unchanged(output: T) -> Self {
        Outcome::Done { output, audit: None, refusals: Vec::new() }
    }
}

/// The request's idempotency key and the fingerprint of its body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: [u8; 32],
}

/// An answer as rendered by the front door (and stored for replay).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// Replayed from a stored answer.
    pub replayed: bool,
}

/// Days a key is remembered: process-wide, set once at start from the settings.
static RETENTION_DAYS: AtomicI64 = AtomicI64::new(7);

/// Sets the retention (at least one day) for every later write.
pub fn set_retention_days(days: i64) {
    RETENTION_DAYS.store(days.max(1), Ordering::Relaxed);
}

/// The moment before which a key has expired, for a retention of `days`.
fn not_before(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days.max(1))
}

/// The moment before which a stored key counts as never used.
pub fn key_not_before() -> DateTime<Utc> {
    not_before(RETENTION_DAYS.load(Ordering::Relaxed))
}

/// Removes the keys older than `retention_days`; returns how many.
pub fn purge(conn: &mut PgConnection, retention_days: i64) -> QueryResult<usize> {
    IdempotencyKey::purge_older_than(conn, not_before(retention_days))
}

/// Runs `command` for `actor` in one transaction, bound to `idempotency` when the request
/// has a key, and answers with `render` of its output or of its recorded refusal. An error
/// of the command rolls everything back (and the key stays unused).
pub fn run<T>(
    conn: &mut PgConnection,
    actor: &Actor,
    idempotency: Option<&Idempotency>,
    command: impl FnOnce(&mut PgConnection) -> AppResult<Outcome<T>>,
    render: impl FnOnce(Result<T, &DomainError>) -> AppResult<Reply>,
) -> AppResult<Reply> {
    let reply = conn.transaction::<Reply, AppError, _>(|conn| {
        let user_id = actor.user_id.unwrap_or(UserId(0));
        if let Some(i) = idempotency
            && let Some(previous) = IdempotencyKey::lock_and_find(conn, user_id, &i.key, key_not_before())?
        {
            if previous.request_fingerprint != i.fingerprint {
                return Err(
                    DomainError::new(ProblemCode::IdempotencyKeyReused, "this Idempotency-Key was already used with a different request").into()
                );
            }
            return Ok(Reply { status: previous.response_status as u16, body: previous.response_body, replayed: true });
        }
        let reply = match command(conn)? {
            Outcome::Done { output, audit, refusals } => {
                record_refusals(conn, actor, &refusals)?;
                if let Some(audit) = audit {
                    audit.record(conn, actor)?;
                }
                render(Ok(output))?
            }
            Outcome::Refused(refusal, error) => {
                let id = record_refusal(conn, actor, &refusal)?;
                render(Err(&error.with("refused_attempt_id", id)))?
            }
        };
        if let Some(i) = idempotency {
            IdempotencyKey::store(
                conn,
                &IdempotencyKey {
                    user_id,
                    key: i.key.clone(),
                    request_fingerprint: i.fingerprint.to_vec(),
                    response_status: reply.status as i16,
                    response_body: reply.body.clone(),
                },
            )?;
        }
        Ok(reply)
    })?;
    // After the commit: a report cached meanwhile is stale from now on (`app::cache`).
    // A failure here loses nothing written; cached reports then age out (`app::cache`).
    if !reply.replayed
        && let Err(e) = crate::app::cache::bump(conn)
    {
        tracing::error!(error = %e, "the write generation could not be moved on after a commit");
    }
    Ok(reply)
}

fn row<'a>(actor: &'a Actor, r: &'a Refusal) -> NewRefusedAttempt<'a> {
    NewRefusedAttempt {
        country_code: &r.country_code,
        facility_id: r.facility_id,
        product_id: r.product_id,
        code: r.code,
        occurred_at: r.occurred_at,
        recorded_by: actor.user_id,
        request_id: actor.request_id.as_deref(),
        details: r.details.clone(),
    }
}

fn record_refusal(conn: &mut PgConnection, actor: &Actor, refusal: &Refusal) -> QueryResult<i64> {
    RefusedAttempt::insert(conn, &row(actor, refusal))
}

fn record_refusals(conn: &mut PgConnection, actor: &Actor, refusals: &[Refusal]) -> QueryResult<()> {
    if !refusals.is_empty() {
        let rows: Vec<_> = refusals.iter().map(|r| row(actor, r)).collect();
        RefusedAttempt::insert_many(conn, &rows)?;
    }
    Ok(())
}
