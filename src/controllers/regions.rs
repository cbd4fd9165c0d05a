//! `GET /countries`, `GET /countries/{code}/regions`, `POST /regions`,
//! `PUT /regions/{id}/population`.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AgeBand, AuditAction, ResourceType, Role, Sex};
use crate::db::models::country::Country;
use crate::db::models::region::{NewRegion, Region, RegionPopulation, RegionPopulationGroup};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::reference::{
    CountryList, CountryView, NewRegionRequest, PageQuery, PopulationGroupView, PopulationRequest, PopulationView, RegionEnvelope, RegionList,
    RegionView,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_countries).service(list_regions).service(create_region).service(put_region_population);
}

/// Who may manage regions and population figures of `country`.
fn check_manages_geography(caller: &Caller, country: &str) -> AppResult<()> {
    caller.require(&[Role::Admin, Role::Ministry, Role::Regulator])?;
    caller.check_country(country)
}

#[utoipa::path(tag = "reference data", params(PageQuery), responses((status = 200, body = CountryList)))]
#[get("/countries")]
async fn list_countries(state: web::Data<AppState>, _caller: Caller, query: QueryParams<PageQuery>) -> AppResult<HttpResponse> {
    let page = Page::new(query.0.page, query.0.per_page)?;
    let rows = app::run(&state.pool, |conn| Ok(Country::all(conn)?)).await?;
    let total = rows.len() as i64;
    let countries = rows.into_iter().skip(page.offset() as usize).take(page.limit() as usize).map(CountryView::from).collect();
    Ok(HttpResponse::Ok().json(CountryList { countries, meta: ListMeta::new(total, page) }))
}

fn region_views(conn: &mut diesel::PgConnection, regions: Vec<Region>) -> AppResult<Vec<RegionView>> {
    let ids: Vec<i64> = regions.iter().map(|r| r.id).collect();
    let totals = RegionPopulation::for_regions(conn, &ids)?;
    let groups = RegionPopulationGroup::for_regions(conn, &ids)?;
    Ok(regions
        .into_iter()
        .map(|r| {
            let populations = totals
                .iter()
                .filter(|t| t.region_id == r.id)
                .map(|t| PopulationView {
                    year: t.year,
                    total: t.total,
                    source: t.source.clone(),
                    by_sex_age: groups
                        .iter()
                        .filter(|g| g.region_id == r.id && g.year == t.year)
                        .map(|g| PopulationGroupView { sex: g.sex, age_band: g.age_band, count: g.count })
                        .collect(),
                })
                .collect();
            RegionView::new(r, populations)
        })
        .collect())
}

/// The regions of a country with their population figures.
#[utoipa::path(tag = "reference data", params(("code" = String, Path), PageQuery), responses((status = 200, body = RegionList)))]
#[get("/countries/{code}/regions")]
async fn list_regions(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::new(query.0.page, query.0.per_page)?;
    let code = path.into_inner().to_uppercase();
    let (views, total) = app::run(&state.pool, move |conn| {
        if Country::find(conn, &code)?.is_none() {
            return Err(DomainError::not_found("country").into());
        }
        let all = Region::of_country(conn, &code)?;
        let total = all.len() as i64;
        let page_rows = all.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
        Ok((region_views(conn, page_rows)?, total))
    })
    .await?;
    Ok(HttpResponse::Ok().json(RegionList { regions: views, meta: ListMeta::new(total, page) }))
}

/// Adds a region to a country (admin, or the country's ministry or regulator).
#[utoipa::path(tag = "reference data", params(IdempotencyKeyHeader), request_body = NewRegionRequest, responses((status = 201, body = RegionEnvelope)))]
#[post("/regions")]
async fn create_region(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewRegionRequest>) -> AppResult<HttpResponse> {
    let request = body.value;
    let country = request.country_code.trim().to_uppercase();
    check_manages_geography(&caller, &country)?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            if Country::find(conn, &country)?.is_none() {
                return Err(DomainError::field("/country_code", "unknown country").into());
            }
            let region =
                Region::create(conn, &NewRegion { country_code: &country, name: request.name.trim(), code: request.code.as_deref() }).map_err(
                    unique_violation_as(DomainError::new(ProblemCode::RegionExists, "the country already has a region with this name or code")),
                )?;
            let audit = AuditEntry::of(
                AuditAction::CreateRegion,
                ResourceType::Region,
                Some(region.id.to_string()),
                Some(&country),
                json!({"name": region.name, "code": region.code}),
            );
            Ok(Outcome::done((StatusCode::CREATED, RegionEnvelope { region: RegionView::new(region, Vec::new()) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}

fn check_breakdown(request: &PopulationRequest) -> Result<(), DomainError> {
    let Some(groups) = &request.by_sex_age else {
        return Ok(());
    };
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if !seen.insert((g.sex, g.age_band)) {
            errors.push(FieldError::at(format!("/by_sex_age/{i}"), "this sex and age band is listed twice"));
        }
    }
    let expected = Sex::ALL.len() * AgeBand::ALL.len();
    if errors.is_empty() && seen.len() != expected {
        errors.push(FieldError::at("/by_sex_age", format!("must list each of the {expected} sex and age-band groups once")));
    }
    let sum: i64 = groups.iter().map(|g| g.count).sum();
    if errors.is_empty() && sum != request.total {
        errors.push(FieldError::at("/by_sex_age", format!("adds up to {sum}, not to total {}", request.total)));
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::validation(errors)) }
}

/// Sets a region's population for a year, optionally by sex and age band; replaces the
/// figures given before for that year (the audit log keeps the old ones).
#[utoipa::path(tag = "reference data", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = PopulationRequest, responses((status = 200, body = RegionEnvelope)))]
#[put("/regions/{id}/population")]
async fn put_region_population(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<i64>,
    body: JsonBody<PopulationRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Ministry, Role::Regulator])?;
    check_breakdown(&body.value)?;
    let id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let region = Region::find(conn, id)?.ok_or_else(|| DomainError::not_found("region"))?;
            check_manages_geography(&caller, &region.country_code)?;
            let previous = region_views(conn, vec![region.clone()])?.pop().and_then(|v| v.populations.into_iter().find(|p| p.year == request.year));
            let total = RegionPopulation { region_id: id, year: request.year, total: request.total, source: request.source.clone() };
            let groups: Vec<RegionPopulationGroup> = request
                .by_sex_age
                .iter()
                .flatten()
                .map(|g| RegionPopulationGroup { region_id: id, year: request.year, sex: g.sex, age_band: g.age_band, count: g.count })
                .collect();
            RegionPopulation::replace(conn, &total, &groups)?;
            let audit = AuditEntry::of(
                AuditAction::PutRegionPopulation,
                ResourceType::Region,
                Some(id.to_string()),
                Some(&region.country_code),
                json!({"year": request.year, "total": request.total, "previous_total": previous.map(|p| p.total)}),
            );
            let view = region_views(conn, vec![region])?.pop().ok_or_else(|| DomainError::not_found("region"))?;
            Ok(Outcome::done((StatusCode::OK, RegionEnvelope { region: view }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
