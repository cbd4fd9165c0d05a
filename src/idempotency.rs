//! Idempotent writes: with an `Idempotency-Key`, the first response is stored in the same
//! transaction as the write, a replay with the same body returns it, and the same key with
//! another body is refused with 422 `idempotency_key_reused`.
//!
//! Keys are remembered for a retention period (`TAROZI_IDEMPOTENCY_RETENTION_DAYS`, 7 days
//! by default): an older key counts as never used, and `serve` purges old keys hourly
//! (`startup::spawn_maintenance`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, QueryResult};
use serde::Serialize;
use utoipa::IntoParams;

use crate::db::models::idempotency_key::IdempotencyKey;
use crate::error::{AppError, AppResult, PROBLEM_CONTENT_TYPE, Problem};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The `Idempotency-Key` request header, as documented on every POST.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKeyHeader {
    /// Client-chosen key (1 to 255 printable ASCII characters). A retry with the same key
    /// and body replays the first response; the same key with another body is refused.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

/// The key a request carries, if any (422 if malformed).
pub fn key_of(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().ok().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Problem::parameter("Idempotency-Key", "must be 1 to 255 printable ASCII characters").into());
    }
    Ok(Some(key.to_owned()))
}

/// What a write produced.
pub enum Outcome<T> {
    /// Written: the status and body to answer with.
    Done(StatusCode, T),
    /// Refused, with the refusal recorded for oversight: the transaction still commits.
    Refused(Problem),
}

/// A response as stored for replay.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub replayed: bool,
}

impl Stored {
    pub fn into_response(self) -> HttpResponse {
        let content_type = if self.status.is_success() { "application/json" } else { PROBLEM_CONTENT_TYPE };
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, content_type));
        if self.replayed {
            response.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
        }
        response.body(self.body)
    }
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

/// Removes the keys older than `retention_days`; returns how many.
pub fn purge(conn: &mut PgConnection, retention_days: i64) -> QueryResult<usize> {
    IdempotencyKey::purge_older_than(conn, not_before(retention_days))
}

/// Runs `write` in a transaction, bound to `key` when the request has one.
pub fn write<T, F>(conn: &mut PgConnection, user_id: i64, key: Option<&str>, fingerprint: [u8; 32], write: F) -> AppResult<Stored>
where
    T: Serialize,
    F: FnOnce(&mut PgConnection) -> AppResult<Outcome<T>>,
{
    conn.transaction::<Stored, AppError, _>(|conn| {
        if let Some(key) = key
            && let Some(previous) = IdempotencyKey::lock_and_find(conn, user_id, key, not_before(RETENTION_DAYS.load(Ordering::Relaxed)))?
        {
            if previous.request_fingerprint != fingerprint {
                return Err(Problem::unprocessable("idempotency_key_reused", "this Idempotency-Key was already used with a different request").into());
            }
            return Ok(Stored {
                status: StatusCode::from_u16(previous.response_status as u16).unwrap_or(StatusCode::OK),
                body: previous.response_body,
                replayed: true,
            });
        }
        let stored = match write(conn)? {
            Outcome::Done(status, body) => Stored { status, body: serde_json::to_vec(&body).map_err(anyhow::Error::from)?, replayed: false },
            Outcome::Refused(problem) => {
                Stored { status: problem.status, body: serde_json::to_vec(&problem.document()).map_err(anyhow::Error::from)?, replayed: false }
            }
        };
        if let Some(key) = key {
            IdempotencyKey::store(
                conn,
                &IdempotencyKey {
                    user_id,
                    key: key.to_owned(),
                    request_fingerprint: fingerprint.to_vec(),
                    response_status: stored.status.as_u16() as i16,
                    response_body: stored.body.clone(),
                },
            )?;
        }
        Ok(stored)
    })
}
