//! The data behind the analytics, each value with its source: `GET|PUT
//! /analytics/adequacy-bands`, `GET /analytics/parameters`, `PATCH
//! /analytics/parameters/{code}` (changes by admin; every change audited).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, put, web};
use bigdecimal::BigDecimal;
use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::schema::{adequacy_bands as b, analytics_parameters as p};
use crate::domain::decimal::Decimal;
use crate::extract::JsonBody;
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::analytics::{AdequacyBandView, AdequacyBands, AnalyticsParameterList, AnalyticsParameterPatch, AnalyticsParameterView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_adequacy_bands).service(replace_adequacy_bands).service(list_analytics_parameters).service(update_analytics_parameter);
}

type BandRow = (String, String, BigDecimal, Option<BigDecimal>, bool, String);

fn load_bands(conn: &mut PgConnection) -> QueryResult<Vec<AdequacyBandView>> {
    let rows: Vec<BandRow> =
        b::table.order(b::min_sddd).select((b::code, b::label, b::min_sddd, b::max_sddd, b::is_finding, b::source)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, label, min, max, is_finding, source)| AdequacyBandView {
            code,
            label,
            min_sddd: min.into(),
            max_sddd: max.map(Decimal::from),
            is_finding,
            source,
        })
        .collect())
}

/// The adequacy bands of S-DDD per million inhabitants per day, with their sources.
#[utoipa::path(tag = "analytics", responses((status = 200, body = AdequacyBands)))]
#[get("/analytics/adequacy-bands")]
async fn list_adequacy_bands(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Ministry, Role::Regulator, Role::Regional])?;
    let bands = app::run(&state.pool, |conn| Ok(load_bands(conn)?)).await?;
    Ok(HttpResponse::Ok().json(AdequacyBands { bands }))
}

/// Bands must tile [0, ∞): sorted, the first from 0, each starting where the last ended,
/// only the top one unbounded.
fn check_bands(bands: &[AdequacyBandView]) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let mut expected_min = BigDecimal::from(0);
    for (i, band) in bands.iter().enumerate() {
        if band.min_sddd.0 != expected_min {
            errors.push(FieldError::at(format!("/bands/{i}/min_sddd"), format!("must be {expected_min}, where the band before ends")));
        }
        match (&band.max_sddd, i + 1 == bands.len()) {
            (None, true) => {}
            (None, false) => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "only the top band is unbounded")),
            (Some(_), true) => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "the top band must be unbounded (null)")),
            (Some(max), false) if max.0 <= band.min_sddd.0 => errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "must be above min_sddd")),
            (Some(max), false) if !max.fits(14, 4) => {
                errors.push(FieldError::at(format!("/bands/{i}/max_sddd"), "at most 10 digits before the point and 4 decimals"))
            }
            (Some(max), false) => expected_min = max.0.clone(),
        }
        if !band.code.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
            errors.push(FieldError::at(format!("/bands/{i}/code"), "use lower-case letters and '_'"));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::validation(errors)) }
}

/// Replaces the bands (admin).
#[utoipa::path(tag = "analytics", params(IdempotencyKeyHeader), request_body = AdequacyBands, responses((status = 200, body = AdequacyBands)))]
#[put("/analytics/adequacy-bands")]
async fn replace_adequacy_bands(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<AdequacyBands>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    check_bands(&body.value.bands)?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let bands = body.value.bands;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let before = load_bands(conn)?;
            diesel::delete(b::table).execute(conn)?;
            for band in &bands {
                diesel::insert_into(b::table)
                    .values((
                        b::code.eq(&band.code),
                        b::label.eq(&band.label),
                        b::min_sddd.eq(&band.min_sddd.0),
                        b::max_sddd.eq(band.max_sddd.as_ref().map(|m| m.0.clone())),
                        b::is_finding.eq(band.is_finding),
                        b::source.eq(&band.source),
                        b::updated_at.eq(Utc::now()),
                    ))
                    .execute(conn)?;
            }
            let audit =
                AuditEntry::of(AuditAction::ReplaceAdequacyBands, ResourceType::AdequacyBands, None, None, json!({"before": before, "after": bands}));
            Ok(Outcome::done((StatusCode::OK, AdequacyBands { bands: load_bands(conn)? }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}

fn load_parameters(conn: &mut PgConnection) -> QueryResult<Vec<AnalyticsParameterView>> {
    let rows: Vec<(String, BigDecimal, String, String, String)> =
        p::table.order(p::code).select((p::code, p::value, p::unit, p::description, p::source)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, value, unit, description, source)| AnalyticsParameterView {
            code,
            value: Decimal(value.normalized()),
            unit,
            description,
            source,
        })
        .collect())
}

/// Numeric parameters of the analytics (reference consumption, reserve months, ...).
#[utoipa::path(tag = "analytics", responses((status = 200, body = AnalyticsParameterList)))]
#[get("/analytics/parameters")]
async fn list_analytics_parameters(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Ministry, Role::Regulator])?;
    let parameters = app::run(&state.pool, |conn| Ok(load_parameters(conn)?)).await?;
    Ok(HttpResponse::Ok().json(AnalyticsParameterList { parameters }))
}

/// Sets a parameter's value and source (admin).
#[utoipa::path(tag = "analytics", params(("code" = String, Path), IdempotencyKeyHeader), request_body = AnalyticsParameterPatch, responses((status = 200, body = AnalyticsParameterList)))]
#[patch("/analytics/parameters/{code}")]
async fn update_analytics_parameter(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AnalyticsParameterPatch>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let code = path.into_inner();
    if body.value.value.0 < 0 || !body.value.value.fits(18, 6) {
        return Err(DomainError::field("/value", "must not be negative, below 10^12, with at most 6 decimals").into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let before: Option<BigDecimal> = p::table.find(&code).select(p::value).for_update().first(conn).optional()?;
            let Some(before) = before else { return Err(DomainError::not_found("parameter").into()) };
            diesel::update(p::table.find(&code))
                .set((p::value.eq(&request.value.0), p::source.eq(&request.source), p::updated_at.eq(Utc::now())))
                .execute(conn)?;
            let audit = AuditEntry::of(
                AuditAction::UpdateAnalyticsParameter,
                ResourceType::AnalyticsParameter,
                Some(code.clone()),
                None,
                json!({"before": before.to_string(), "after": request.value, "source": request.source}),
            );
            Ok(Outcome::done((StatusCode::OK, AnalyticsParameterList { parameters: load_parameters(conn)? }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
