//! `GET /health`, `GET /ready`, `GET /metrics` (outside `/api/v1`).

use actix_web::{HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db;
use crate::error::AppResult;
use crate::observability::Metrics;
use crate::startup::AppState;

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
#[utoipa::path(tag = "operations", responses((status = 200, body = Status), (status = 503, body = crate::error::ProblemDocument)), security(()))]
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn).map_err(|_| crate::error::unavailable())?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Status { status: "ready".to_owned() }))
}

/// Prometheus text: request counts and latency histograms by route and status.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String)), security(()))]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render())
}
