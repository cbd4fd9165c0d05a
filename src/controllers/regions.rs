//! `GET /countries`, `GET /countries/{code}/regions`, `POST /regions`,
//! `PUT /regions/{id}/population`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::reference;
use crate::auth::Caller;
use crate::db::models::country::Country;
use crate::db::models::region::{Region, RegionPopulation, RegionPopulationGroup};
use crate::domain::ids::RegionId;
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

#[utoipa::path(tag = "reference data", params(PageQuery), responses((status = 200, body = CountryList)))]
#[get("/countries")]
async fn list_countries(state: web::Data<AppState>, _caller: Caller, query: QueryParams<PageQuery>) -> AppResult<HttpResponse> {
    let page = Page::new(query.0.page, query.0.per_page)?;
    let rows = app::run(&state.pool, |conn| Ok(Country::all(conn)?)).await?;
    let total = rows.len() as i64;
    let countries = rows.into_iter().skip(page.offset() as usize).take(page.limit() as usize).map(CountryView::from).collect();
    Ok(HttpResponse::Ok().json(CountryList { countries, meta: ListMeta::new(total, page) }))
}

/// A region with its figures (every year's total, by year, and breakdown).
fn region_view(region: Region, totals: &[RegionPopulation], groups: &[RegionPopulationGroup]) -> RegionView {
    let populations = totals
        .iter()
        .filter(|t| t.region_id == region.id)
        .map(|t| PopulationView {
            year: t.year,
            total: t.total,
            source: t.source.clone(),
            by_sex_age: groups
                .iter()
                .filter(|g| g.region_id == region.id && g.year == t.year)
                .map(|g| PopulationGroupView { sex: g.sex, age_band: g.age_band, count: g.count })
                .collect(),
        })
        .collect();
    RegionView::new(region, populations)
}

fn region_views(conn: &mut diesel::PgConnection, regions: Vec<Region>) -> AppResult<Vec<RegionView>> {
    let ids: Vec<RegionId> = regions.iter().map(|r| r.id).collect();
    let totals = RegionPopulation::for_regions(conn, &ids)?;
    let groups = RegionPopulationGroup::for_regions(conn, &ids)?;
    Ok(regions.into_iter().map(|r| region_view(r, &totals, &groups)).collect())
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
    let r = body.value;
    let input = reference::create_region::Input::new(&r.country_code, &r.name, r.code);
    caller.check_country(&input.country_code)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::create_region::execute(conn, actor, input),
        |region| (StatusCode::CREATED, RegionEnvelope { region: RegionView::new(region, Vec::new()) }),
    )
    .await
}

/// Sets a region's population for a year, optionally by sex and age band; replaces the
/// figures given before for that year (the audit log keeps the old ones).
#[utoipa::path(tag = "reference data", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = PopulationRequest, responses((status = 200, body = RegionEnvelope)))]
#[put("/regions/{id}/population")]
async fn put_region_population(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<RegionId>,
    body: JsonBody<PopulationRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let groups = r
        .by_sex_age
        .map(|gs| gs.into_iter().map(|g| reference::put_region_population::Group { sex: g.sex, age_band: g.age_band, count: g.count }).collect());
    let input = reference::put_region_population::Input::parse(path.into_inner(), r.year, r.total, r.source, groups)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::put_region_population::execute(conn, actor, input),
        |f| (StatusCode::OK, RegionEnvelope { region: region_view(f.region, &f.populations, &f.groups) }),
    )
    .await
}
