//! `POST /diversion/scans`, `GET /rules`, `PATCH /rules/{code}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::db;
use crate::db::enums::{Role, ScanTrigger};
use crate::db::models::audit_event::AuditEvent;
use crate::db::models::country::Country;
use crate::db::models::rule::Rule;
use crate::db::reports::flows::DateRange;
use crate::error::{AppResult, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader, Outcome};
use crate::rules;
use crate::startup::AppState;
use crate::views::flags::{RuleEnvelope, RuleList, RulePatchRequest, RuleQuery, RuleView, ScanEnvelope, ScanRequest};

/// Longest period one scan covers.
const MAX_SCAN_DAYS: i64 = 366 * 2;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_scan).service(list_rules).service(update_rule);
}

/// Runs every enabled rule over a country and period (regulator of the country). Flags of
/// a rescanned period are refreshed, not duplicated.
#[utoipa::path(tag = "diversion", params(IdempotencyKeyHeader), request_body = ScanRequest, responses((status = 201, body = ScanEnvelope)))]
#[post("/diversion/scans")]
async fn create_scan(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<ScanRequest>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Regulator])?;
    let request = body.value;
    let country = request.country_code.trim().to_uppercase();
    caller.check_country(&country)?;
    if request.to < request.from {
        return Err(Problem::field("/to", "must not be before from").into());
    }
    let range = DateRange { from: request.from, to: request.to };
    if range.days() > MAX_SCAN_DAYS {
        return Err(Problem::field("/to", format!("a scan covers at most {MAX_SCAN_DAYS} days")).into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let grace = state.settings.reporting_grace_days;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::write(conn, caller.user_id, key.as_deref(), fingerprint, |conn| {
            if Country::find(conn, &country)?.is_none() {
                return Err(Problem::field("/country_code", "unknown country").into());
            }
            let outcome = rules::scan::run(conn, &country, range, ScanTrigger::Manual, Some(caller.user_id), Utc::now().date_naive(), grace)?;
            AuditEvent::record(
                conn,
                &caller.actor(),
                "create_scan",
                "scan",
                Some(outcome.scan.id.to_string()),
                Some(&country),
                json!({"from": range.from, "to": range.to, "flags_raised": outcome.flags_raised, "flags_updated": outcome.flags_updated}),
            )?;
            Ok(Outcome::Done(StatusCode::CREATED, ScanEnvelope { scan: outcome.scan.into() }))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// The rules of a country with their parameters, version, state and mode.
#[utoipa::path(tag = "diversion", params(RuleQuery), responses((status = 200, body = RuleList)))]
#[get("/rules")]
async fn list_rules(state: web::Data<AppState>, caller: Caller, query: QueryParams<RuleQuery>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Regulator, Role::Ministry])?;
    let country = caller.country_scope(query.0.country.as_deref())?.ok_or_else(|| Problem::parameter("country", "is required"))?;
    let c = country.clone();
    let rows = db::run(&state.pool, move |conn| Ok(Rule::of_country(conn, &c)?)).await?;
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
    let spec = rules::spec(&code).ok_or_else(|| Problem::not_found("rule"))?;
    let country = caller.country_code.clone().ok_or_else(|| Problem::forbidden("no country"))?;
    let request = body.value;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::write(conn, caller.user_id, key.as_deref(), fingerprint, |conn| {
            let mut rule = Rule::find_for_update(conn, &country, &code)?.ok_or_else(|| Problem::not_found("rule"))?;
            let before = (rule.version, rule.params.clone(), rule.enabled, rule.mode);
            if let Some(changes) = &request.params {
                let mut params = rule.params.as_object().cloned().unwrap_or_default();
                for (k, v) in changes {
                    params.insert(k.clone(), v.clone());
                }
                rule.params = (spec.check_params)(&serde_json::Value::Object(params)).map_err(|m| Problem::field("/params", m))?;
            }
            if let Some(enabled) = request.enabled {
                rule.enabled = enabled;
            }
            if let Some(mode) = request.mode {
                rule.mode = mode;
            }
            rule.version += 1;
            let saved = Rule::save_version(conn, &rule, caller.user_id)?;
            AuditEvent::record(
                conn,
                &caller.actor(),
                "update_rule",
                "rule",
                Some(code.clone()),
                Some(&country),
                json!({"before": {"version": before.0, "params": before.1, "enabled": before.2, "mode": before.3}, "after": {"version": saved.version, "params": saved.params, "enabled": saved.enabled, "mode": saved.mode}}),
            )?;
            Ok(Outcome::Done(StatusCode::OK, RuleEnvelope { rule: saved.into() }))
        })
    })
    .await?;
    Ok(stored.into_response())
}
