//! The HTTP side of the write frame: the `Idempotency-Key` header, running a command from a
//! handler (`execute`) and answering with its JSON view, its problem document or the stored
//! answer of an earlier request with the same key (`Idempotent-Replayed: true`).
//!
//! The frame itself — transaction, key, audit entry, refused attempts — is `app::frame`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde::Serialize;
use utoipa::IntoParams;

use crate::app;
use crate::app::error::{AppError, AppResult, DomainError};
use crate::app::frame::{self, Idempotency, Outcome, Reply};
use crate::db::models::audit_event::Actor;
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::state::AppState;

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
        return Err(DomainError::parameter("Idempotency-Key", "must be 1 to 255 printable ASCII characters").into());
    }
    Ok(Some(key.to_owned()))
}

/// Runs `command` for `actor` through the write frame and answers with `view` of its output
/// (a status and a JSON body) or with the problem document of its recorded refusal.
pub async fn execute<T, V, C, R>(
    state: &AppState,
    key: Option<String>,
    actor: Actor,
    fingerprint: [u8; 32],
    command: C,
    view: R,
) -> AppResult<HttpResponse>
where
    C: FnOnce(&mut PgConnection, &Actor) -> AppResult<Outcome<T>> + Send + 'static,
    R: FnOnce(T) -> (StatusCode, V) + Send + 'static,
    V: Serialize,
    T: 'static,
{
    Ok(into_response(execute_reply(state, key, actor, fingerprint, command, view).await?))
}

/// `execute`, answering with the stored form (for handlers that add to a fresh answer).
pub async fn execute_reply<T, V, C, R>(
    state: &AppState,
    key: Option<String>,
    actor: Actor,
    fingerprint: [u8; 32],
    command: C,
    view: R,
) -> AppResult<Reply>
where
    C: FnOnce(&mut PgConnection, &Actor) -> AppResult<Outcome<T>> + Send + 'static,
    R: FnOnce(T) -> (StatusCode, V) + Send + 'static,
    V: Serialize,
    T: 'static,
{
    let idempotency = key.map(|key| Idempotency { key, fingerprint });
    app::run(&state.pool, move |conn| frame::run(conn, &actor, idempotency.as_ref(), |conn| command(conn, &actor), |result| render(result.map(view))))
        .await
}

/// The stored form of an answer.
fn render<V: Serialize>(result: Result<(StatusCode, V), &DomainError>) -> AppResult<Reply> {
    let (status, body) = match result {
        Ok((status, body)) => (status, serde_json::to_vec(&body)),
        Err(e) => (crate::error::status_of(e.code), serde_json::to_vec(&crate::error::document(e))),
    };
    Ok(Reply { status: status.as_u16(), body: body.map_err(|e| AppError::Internal(e.into()))?, replayed: false })
}

pub fn into_response(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() { "application/json" } else { PROBLEM_CONTENT_TYPE };
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, content_type));
    if reply.replayed {
        response.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
    }
    response.body(reply.body)
}
