//! `POST /diversion/scans` (run in the background), `GET /diversion/scans/{id}`, `GET /rules`,
//! `PATCH /rules/{code}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use tracing::Instrument;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::diversion::{self, run_scan, start_scan};
use crate::app::error::{AppResult, DomainError};
use crate::auth::Caller;
use crate::db::models::audit_event::Actor;
use crate::db::models::rule::Rule;
use crate::db::models::scan::Scan;
use crate::domain::ids::ScanId;
use crate::extract::{JsonBody, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::flags::{RuleEnvelope, RuleList, RulePatchRequest, RuleQuery, RuleView, ScanEnvelope, ScanRequest};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_scan).service(get_scan).service(list_rules).service(update_rule);
}

/// Starts a scan of every enabled rule over a country and period (regulator of the
/// country) and answers 202 at once with the scan `running`; the rules run in the
/// background, and `GET /diversion/scans/{id}` (the `Location`) shows it `completed`, with
/// its counts, or `failed`. Flags of a rescanned period are refreshed, not duplicated. A
/// replay of the same `Idempotency-Key` answers the same scan and starts nothing.
#[utoipa::path(
    tag = "diversion",
    params(IdempotencyKeyHeader),
    request_body = ScanRequest,
    responses((status = 202, body = ScanEnvelope, headers(("Location" = String, description = "`/api/v1/diversion/scans/{id}` of the scan"))))
)]
#[post("/diversion/scans")]
async fn create_scan(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<ScanRequest>) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    let r = &body.value;
    let input = start_scan::Input::parse(&actor, &r.country_code, r.from, r.to)?;
    let stored = idempotency::execute_reply(
        &state,
        idempotency::key_of(&req)?,
        actor.clone(),
        body.fingerprint,
        move |conn, actor| start_scan::execute(conn, actor, input),
        |scan| (StatusCode::ACCEPTED, ScanEnvelope { scan: scan.into() }),
    )
    .await?;
    let scan_id = (stored.status == StatusCode::ACCEPTED.as_u16())
        .then(|| serde_json::from_slice::<serde_json::Value>(&stored.body).ok())
        .flatten()
        .and_then(|body| body["scan"]["id"].as_i64())
        .map(ScanId);
    if let (Some(id), false) = (scan_id, stored.replayed) {
        spawn_scan(state.clone(), id, actor);
    }
    let mut response = idempotency::into_response(stored);
    if let Some(location) = scan_id.and_then(|id| HeaderValue::from_str(&format!("/api/v1/diversion/scans/{id}")).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Runs a started scan on a pooled connection of its own after the request is answered,
/// and records its end in the audit log (with the requester's identity and request id).
fn spawn_scan(state: web::Data<AppState>, id: ScanId, actor: Actor) {
    let grace = state.settings.reporting_grace_days;
    let span = tracing::info_span!("scan", scan_id = id.get(), request_id = actor.request_id.as_deref().unwrap_or(""));
    actix_web::rt::spawn(
        async move {
            let result = app::run(&state.pool, move |conn| run_scan::run(conn, &actor, id, Utc::now(), grace)).await;
            match result {
                Ok(outcome) => tracing::info!(flags_raised = outcome.flags_raised, "scan finished"),
                Err(e) => tracing::error!(error = %e, "scan failed"),
            }
        }
        .instrument(span),
    );
}

/// A scan: `running`, or `completed` with its counts and per-rule report, or `failed`
/// (regulator of the scan's country; another country's scan is not found).
#[utoipa::path(tag = "diversion", params(("id" = i64, Path)), responses((status = 200, body = ScanEnvelope)))]
#[get("/diversion/scans/{id}")]
async fn get_scan(state: web::Data<AppState>, caller: Caller, path: web::Path<ScanId>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let scan = app::run(&state.pool, move |conn| Ok(Scan::find(conn, id)?)).await?;
    let scan = scan.filter(|s| caller.country_code.as_deref() == Some(s.country_code.as_str())).ok_or_else(|| DomainError::not_found("scan"))?;
    Ok(HttpResponse::Ok().json(ScanEnvelope { scan: scan.into() }))
}

/// The rules of a country with their parameters, version, state and mode.
#[utoipa::path(tag = "diversion", params(RuleQuery), responses((status = 200, body = RuleList)))]
#[get("/rules")]
async fn list_rules(state: web::Data<AppState>, caller: Caller, query: QueryParams<RuleQuery>) -> AppResult<HttpResponse> {
    let country = caller.country_scope(query.0.country.as_deref())?.ok_or_else(|| DomainError::parameter("country", "is required"))?;
    let c = country.clone();
    let rows = app::run(&state.pool, move |conn| Ok(Rule::of_country(conn, &c)?)).await?;
    Ok(HttpResponse::Ok().json(RuleList { country_code: country, rules: rows.into_iter().map(RuleView::from).collect() }))
}

/// Changes a rule of the regulator's country: parameters (merged onto the current ones and
/// checked), enabled, mode. Every change is a new version; flags keep the version that
/// raised them.
#[utoipa::path(tag = "diversion", params(("code" = String, Path), IdempotencyKeyHeader), request_body = RulePatchRequest, responses((status = 200, body = RuleEnvelope)))]
#[patch("/rules/{code}")]
async fn update_rule(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<RulePatchRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let input = diversion::update_rule::Input::parse(path.into_inner(), r.params, r.enabled, r.mode)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| diversion::update_rule::execute(conn, actor, input),
        |rule| (StatusCode::OK, RuleEnvelope { rule: rule.into() }),
    )
    .await
}
