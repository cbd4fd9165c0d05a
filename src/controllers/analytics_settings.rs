//! The data behind the analytics, each value with its source: `GET|PUT
//! /analytics/adequacy-bands`, `GET /analytics/parameters`, `PATCH
//! /analytics/parameters/{code}` (changes by admin; every change audited).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::AppResult;
use crate::app::reference::{self, AdequacyBand};
use crate::auth::Caller;
use crate::db::models::analytics_parameter::AnalyticsParameter;
use crate::extract::JsonBody;
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::analytics::{AdequacyBandView, AdequacyBands, AnalyticsParameterList, AnalyticsParameterPatch, AnalyticsParameterView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_adequacy_bands).service(replace_adequacy_bands).service(list_analytics_parameters).service(update_analytics_parameter);
}

fn band_view(b: AdequacyBand) -> AdequacyBandView {
    AdequacyBandView { code: b.code, label: b.label, min_sddd: b.min_sddd, max_sddd: b.max_sddd, is_finding: b.is_finding, source: b.source }
}

fn band(v: AdequacyBandView) -> AdequacyBand {
    AdequacyBand { code: v.code, label: v.label, min_sddd: v.min_sddd, max_sddd: v.max_sddd, is_finding: v.is_finding, source: v.source }
}

fn bands_view(bands: Vec<AdequacyBand>) -> AdequacyBands {
    AdequacyBands { bands: bands.into_iter().map(band_view).collect() }
}

fn parameters_view(parameters: Vec<AnalyticsParameter>) -> AnalyticsParameterList {
    let view = |p: AnalyticsParameter| AnalyticsParameterView {
        code: p.code,
        value: p.value,
        unit: p.unit,
        description: p.description,
        source: p.source,
        is_default: p.is_default,
    };
    AnalyticsParameterList { parameters: parameters.into_iter().map(view).collect() }
}

/// The adequacy bands of S-DDD per million inhabitants per day, with their sources.
#[utoipa::path(tag = "analytics", responses((status = 200, body = AdequacyBands)))]
#[get("/analytics/adequacy-bands")]
async fn list_adequacy_bands(state: web::Data<AppState>, _caller: Caller) -> AppResult<HttpResponse> {
    let bands = app::run(&state.pool, |conn| Ok(AdequacyBand::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(bands_view(bands)))
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
    let input = reference::replace_adequacy_bands::Input::parse(body.value.bands.into_iter().map(band).collect())?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::replace_adequacy_bands::execute(conn, actor, input),
        |bands| (StatusCode::OK, bands_view(bands)),
    )
    .await
}

/// Numeric parameters of the analytics (reference consumption, reserve months, ...).
#[utoipa::path(tag = "analytics", responses((status = 200, body = AnalyticsParameterList)))]
#[get("/analytics/parameters")]
async fn list_analytics_parameters(state: web::Data<AppState>, _caller: Caller) -> AppResult<HttpResponse> {
    let parameters = app::run(&state.pool, |conn| Ok(AnalyticsParameter::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(parameters_view(parameters)))
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
    let r = body.value;
    let input = reference::update_analytics_parameter::Input::parse(path.into_inner(), r.value, r.source)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::update_analytics_parameter::execute(conn, actor, input),
        |parameters| (StatusCode::OK, parameters_view(parameters)),
    )
    .await
}
