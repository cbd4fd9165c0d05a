//! `GET /health`, `GET /ready`, `GET /metrics` (outside `/api/v1`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::observability::Metrics;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub status: String,
}

/// The process is alive.
///
/// It stays 200 while the database is down (restarting the process would not help);
/// `/ready` tells whether requests can be served.
#[utoipa::path(tag = "operations", responses((status = 200, body = Status)), security(()))]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok".to_owned() })
}

/// The database is reachable.
///
/// 503 `database_unavailable` with `Retry-After` while it is not; at once while the
/// private cluster is being restarted.
#[utoipa::path(tag = "operations", responses((status = 200, body = Status), (status = 503, body = crate::error::ProblemDocument, content_type = "application/problem+json")), security(()))]
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    app::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn).map_err(|_| DomainError::unavailable())?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Status { status: "ready".to_owned() }))
}

/// Prometheus text: request counts and latency histograms by method, route and status.
/// Served only when `TAROZI_METRICS_TOKEN` is set, to `Authorization: Bearer <that token>`;
/// without the setting the path answers 404 like an unknown one.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 401, description = "No or a wrong metrics token", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are not enabled (`TAROZI_METRICS_TOKEN` unset)", body = crate::error::ProblemDocument, content_type = "application/problem+json")
    ),
    security(("metrics_token" = []))
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>, req: HttpRequest) -> HttpResponse {
    let Some(expected) = state.settings.ops.metrics_token.as_deref() else {
        return crate::error::respond(&DomainError::not_found("route"));
    };
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    if !given.is_some_and(|given| same_secret(given, expected)) {
        let mut response = crate::error::respond(&DomainError::new(ProblemCode::Unauthenticated, "the metrics token is required"));
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render())
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
