//! `POST /diversion/scans` (run in the background), `GET /diversion/scans/{id}`, `GET /rules`,
//! `PATCH /rules/{code}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use serde_json::json;
use tracing::Instrument;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, ResourceType, Role, ScanTrigger};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::rule::Rule;
use crate::db::models::scan::Scan;
use crate::db::reports::flows::DateRange;
use crate::extract::{JsonBody, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::rules;
use crate::state::AppState;
use crate::views::flags::{RuleEnvelope, RuleList, RulePatchRequest, RuleQuery, RuleView, ScanEnvelope, ScanRequest};

/// Longest period one scan covers.
const MAX_SCAN_DAYS: i64 = 366 * 2;

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
    caller.require(&[Role::Regulator])?;
    let request = body.value;
    let country = request.country_code.trim().to_uppercase();
    caller.check_country(&country)?;
    if request.to < request.from {
        return Err(DomainError::field("/to", "must not be before from").into());
    }
    let range = DateRange { from: request.from, to: request.to };
    if range.days() > MAX_SCAN_DAYS {
        return Err(DomainError::field("/to", format!("a scan covers at most {MAX_SCAN_DAYS} days")).into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let actor = caller.actor();
    let stored = idempotency::execute_reply(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            if Country::find(conn, &country)?.is_none() {
                return Err(DomainError::field("/country_code", "unknown country").into());
            }
            let scan = Scan::start(conn, &country, range.from, range.to, ScanTrigger::Manual, Some(caller.user_id))?;
            let audit = AuditEntry::of(
                AuditAction::CreateScan,
                ResourceType::Scan,
                Some(scan.id.to_string()),
                Some(&country),
                json!({"from": range.from, "to": range.to}),
            );
            Ok(Outcome::done((StatusCode::ACCEPTED, ScanEnvelope { scan: scan.into() }), audit))
        },
        |reply| reply,
    )
    .await?;
    let scan_id = (stored.status == StatusCode::ACCEPTED.as_u16())
        .then(|| serde_json::from_slice::<serde_json::Value>(&stored.body).ok())
        .flatten()
        .and_then(|body| body["scan"]["id"].as_i64());
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
fn spawn_scan(state: web::Data<AppState>, id: i64, actor: Actor) {
    let grace = state.settings.reporting_grace_days;
    let span = tracing::info_span!("scan", scan_id = id, request_id = actor.request_id.as_deref().unwrap_or(""));
    actix_web::rt::spawn(
        async move {
            let result = app::run(&state.pool, move |conn| {
                let scan = Scan::find(conn, id)?.ok_or_else(|| DomainError::not_found("scan"))?;
                let country = scan.country_code.clone();
                match rules::scan::complete(conn, scan, Utc::now().date_naive(), grace) {
                    Ok(outcome) => {
                        let details = json!({"flags_raised": outcome.flags_raised, "flags_updated": outcome.flags_updated});
                        AuditEntry::of(AuditAction::CompleteScan, ResourceType::Scan, Some(id.to_string()), Some(&country), details)
                            .record(conn, &actor)?;
                        Ok(outcome.flags_raised)
                    }
                    Err(e) => {
                        AuditEntry::of(AuditAction::FailScan, ResourceType::Scan, Some(id.to_string()), Some(&country), json!({}))
                            .record(conn, &actor)?;
                        Err(e.into())
                    }
                }
            })
            .await;
            match result {
                Ok(raised) => tracing::info!(flags_raised = raised, "scan finished"),
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
async fn get_scan(state: web::Data<AppState>, caller: Caller, path: web::Path<i64>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Regulator])?;
    let id = path.into_inner();
    let scan = app::run(&state.pool, move |conn| Ok(Scan::find(conn, id)?)).await?;
    let scan = scan.filter(|s| caller.country_code.as_deref() == Some(s.country_code.as_str())).ok_or_else(|| DomainError::not_found("scan"))?;
    Ok(HttpResponse::Ok().json(ScanEnvelope { scan: scan.into() }))
}

/// The rules of a country with their parameters, version, state and mode.
#[utoipa::path(tag = "diversion", params(RuleQuery), responses((status = 200, body = RuleList)))]
#[get("/rules")]
async fn list_rules(state: web::Data<AppState>, caller: Caller, query: QueryParams<RuleQuery>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Regulator, Role::Ministry])?;
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
    caller.require(&[Role::Regulator])?;
    let code = path.into_inner();
    let spec = rules::spec(&code).ok_or_else(|| DomainError::not_found("rule"))?;
    let country = caller.country_code.clone().ok_or_else(|| DomainError::forbidden("no country"))?;
    let request = body.value;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            let mut rule = Rule::find_for_update(conn, &country, &code)?.ok_or_else(|| DomainError::not_found("rule"))?;
            let before = (rule.version, rule.params.clone(), rule.enabled, rule.mode);
            if let Some(changes) = &request.params {
                let mut params = rule.params.as_object().cloned().unwrap_or_default();
                for (k, v) in changes {
                    params.insert(k.clone(), v.clone());
                }
                rule.params = (spec.check_params)(&serde_json::Value::Object(params)).map_err(|m| DomainError::field("/params", m))?;
            }
            if let Some(enabled) = request.enabled {
                rule.enabled = enabled;
            }
            if let Some(mode) = request.mode {
                rule.mode = mode;
            }
            rule.version += 1;
            let saved = Rule::save_version(conn, &rule, caller.user_id)?;
            let audit = AuditEntry::of(
                AuditAction::UpdateRule,
                ResourceType::Rule,
                Some(code.clone()),
                Some(&country),
                json!({"before": {"version": before.0, "params": before.1, "enabled": before.2, "mode": before.3}, "after": {"version": saved.version, "params": saved.params, "enabled": saved.enabled, "mode": saved.mode}}),
            );
            Ok(Outcome::done((StatusCode::OK, RuleEnvelope { rule: saved.into() }), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
}
