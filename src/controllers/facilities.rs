//! `GET|POST /facilities`, `GET|PATCH /facilities/{id}`: licensed establishments.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::reference;
use crate::auth::Caller;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::domain::ids::FacilityId;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::reference::{FacilityEnvelope, FacilityList, FacilityPatchRequest, FacilityQuery, FacilityView, NewFacilityRequest};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_facilities).service(create_facility).service(get_facility).service(update_facility);
}

/// Facilities the caller may see: facility users their own, the ministry and regulator
/// their country's, admin any (optionally one country).
#[utoipa::path(tag = "facilities", params(FacilityQuery), responses((status = 200, body = FacilityList)))]
#[get("/facilities")]
async fn list_facilities(state: web::Data<AppState>, caller: Caller, query: QueryParams<FacilityQuery>) -> AppResult<HttpResponse> {
    let query = query.0;
    let page = Page::new(query.page, query.per_page)?;
    let mut filter = FacilityFilter { region_id: query.region_id, kind: query.kind, ..Default::default() };
    if caller.role.is_facility_role() {
        filter.only_id = caller.facility_id;
    }
    filter.country_code = caller.country_scope(query.country.as_deref())?;
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Facility::page(conn, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(FacilityList { facilities: rows.into_iter().map(FacilityView::from).collect(), meta: ListMeta::new(total, page) }))
}

#[utoipa::path(tag = "facilities", params(("id" = i64, Path)), responses((status = 200, body = FacilityEnvelope)))]
#[get("/facilities/{id}")]
async fn get_facility(state: web::Data<AppState>, caller: Caller, path: web::Path<FacilityId>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let facility = app::run(&state.pool, move |conn| Ok(Facility::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("facility"))?;
    caller.check_facility(&facility)?;
    Ok(HttpResponse::Ok().json(FacilityEnvelope { facility: facility.into() }))
}

/// Licenses a facility (admin, or the regulator of the region's country).
#[utoipa::path(tag = "facilities", params(IdempotencyKeyHeader), request_body = NewFacilityRequest, responses((status = 201, body = FacilityEnvelope)))]
#[post("/facilities")]
async fn create_facility(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewFacilityRequest>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let r = body.value;
    let input = reference::create_facility::Input {
        region_id: r.region_id,
        name: r.name,
        kind: r.kind,
        licence_number: r.licence_number,
        licence_valid_until: r.licence_valid_until,
    };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::create_facility::execute(conn, actor, input),
        |facility| (StatusCode::CREATED, FacilityEnvelope { facility: facility.into() }),
    )
    .await
}

/// Changes a facility's name, licence or region (admin, or the regulator of its country).
#[utoipa::path(tag = "facilities", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = FacilityPatchRequest, responses((status = 200, body = FacilityEnvelope)))]
#[patch("/facilities/{id}")]
async fn update_facility(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FacilityId>,
    body: JsonBody<FacilityPatchRequest>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let r = body.value;
    let input = reference::update_facility::Input {
        facility_id: path.into_inner(),
        name: r.name,
        licence_number: r.licence_number,
        licence_valid_until: r.licence_valid_until,
        region_id: r.region_id,
    };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::update_facility::execute(conn, actor, input),
        |facility| (StatusCode::OK, FacilityEnvelope { facility: facility.into() }),
    )
    .await
}
