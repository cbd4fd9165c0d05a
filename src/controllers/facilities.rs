//! `GET|POST /facilities`, `GET|PATCH /facilities/{id}`: licensed establishments.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::models::facility::{Facility, FacilityChangeset, FacilityFilter, NewFacility};
use crate::db::models::region::Region;
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
async fn get_facility(state: web::Data<AppState>, caller: Caller, path: web::Path<i64>) -> AppResult<HttpResponse> {
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
    caller.require(&[Role::Admin, Role::Regulator])?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            let region = Region::find(conn, request.region_id)?.ok_or_else(|| DomainError::field("/region_id", "unknown region"))?;
            caller.check_country(&region.country_code)?;
            let facility = Facility::create(
                conn,
                &NewFacility {
                    country_code: &region.country_code,
                    region_id: region.id,
                    name: request.name.trim(),
                    kind: request.kind,
                    licence_number: request.licence_number.trim(),
                    licence_valid_until: request.licence_valid_until,
                },
            )
            .map_err(unique_violation_as(
                DomainError::new(ProblemCode::LicenceNumberTaken, "another facility of this country holds this licence number")
                    .with_error(FieldError::at("/licence_number", "is taken")),
            ))?;
            let audit = AuditEntry::of(
                AuditAction::CreateFacility,
                ResourceType::Facility,
                Some(facility.id.to_string()),
                Some(&facility.country_code),
                json!({"name": facility.name, "kind": facility.kind, "licence_number": facility.licence_number, "licence_valid_until": facility.licence_valid_until}),
            );
            Ok(Outcome::done((StatusCode::CREATED, FacilityEnvelope { facility: facility.into() }), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
}

/// Changes a facility's name, licence or region (admin, or the regulator of its country).
#[utoipa::path(tag = "facilities", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = FacilityPatchRequest, responses((status = 200, body = FacilityEnvelope)))]
#[patch("/facilities/{id}")]
async fn update_facility(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<i64>,
    body: JsonBody<FacilityPatchRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Regulator])?;
    let id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            let before = Facility::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("facility"))?;
            caller.check_country(&before.country_code)?;
            if let Some(region_id) = request.region_id {
                let region = Region::find(conn, region_id)?.ok_or_else(|| DomainError::field("/region_id", "unknown region"))?;
                if region.country_code != before.country_code {
                    return Err(DomainError::field("/region_id", "must be a region of the facility's country").into());
                }
            }
            let changes = FacilityChangeset {
                region_id: request.region_id,
                name: request.name.as_deref().map(|s| s.trim().to_owned()),
                licence_number: request.licence_number.as_deref().map(|s| s.trim().to_owned()),
                licence_valid_until: request.licence_valid_until,
                updated_at: Some(chrono::Utc::now()),
            };
            let after = Facility::update(conn, id, &changes)
                .map_err(unique_violation_as(DomainError::new(ProblemCode::LicenceNumberTaken, "another facility of this country holds this licence number")))?;
            let audit = AuditEntry::of(
                AuditAction::UpdateFacility,
                ResourceType::Facility,
                Some(id.to_string()),
                Some(&after.country_code),
                json!({
                    "before": {"name": before.name, "region_id": before.region_id, "licence_number": before.licence_number, "licence_valid_until": before.licence_valid_until},
                    "after": {"name": after.name, "region_id": after.region_id, "licence_number": after.licence_number, "licence_valid_until": after.licence_valid_until},
                }),
            );
            Ok(Outcome::done((StatusCode::OK, FacilityEnvelope { facility: after.into() }), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
}
