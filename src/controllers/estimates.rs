//! `GET|POST /estimates`: INCB estimates per country, substance and year;
//! `GET|PUT /countries/{code}/deaths/{year}`: the deaths by cause the morbidity-based
//! estimate proposal reads.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use bigdecimal::BigDecimal;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::estimates;
use crate::auth::Caller;
use crate::db::enums::EstimateKind;
use crate::db::models::country::Country;
use crate::db::models::deaths::DeathsByCause;
use crate::db::models::estimate::{Estimate, EstimateFilter};
use crate::domain::ids::SubstanceId;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::supply::{
    DeathsEnvelope, DeathsRequest, DeathsView, EstimateEnvelope, EstimateList, EstimateQuery, EstimateRequest, EstimateTotalView, EstimateView,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_estimates).service(create_estimate).service(get_country_deaths).service(put_country_deaths);
}

/// The totals in force of the estimates given.
fn totals(estimates: &[Estimate]) -> Vec<EstimateTotalView> {
    let mut sums: BTreeMap<(String, i32, SubstanceId), (BigDecimal, BigDecimal)> = BTreeMap::new();
    for e in estimates {
        let entry = sums.entry((e.country_code.clone(), e.year, e.substance_id)).or_default();
        match e.kind {
            EstimateKind::Annual => entry.0 += &e.quantity_g,
            EstimateKind::Supplementary => entry.1 += &e.quantity_g,
        }
    }
    sums.into_iter()
        .map(|((country_code, year, substance_id), (annual, supplementary))| EstimateTotalView {
            country_code,
            substance_id,
            year,
            total_g: (&annual + &supplementary).into(),
            annual_g: annual.into(),
            supplementary_g: supplementary.into(),
        })
        .collect()
}

/// Estimates of a country (ministry, regulator; admin any), with the totals in force.
#[utoipa::path(tag = "supply chain", params(EstimateQuery), responses((status = 200, body = EstimateList)))]
#[get("/estimates")]
async fn list_estimates(state: web::Data<AppState>, caller: Caller, query: QueryParams<EstimateQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = EstimateFilter { country_code: caller.country_scope(q.country.as_deref())?, year: q.year, substance_id: q.substance_id };
    let all = app::run(&state.pool, move |conn| Ok(Estimate::matching(conn, &filter)?)).await?;
    let totals = totals(&all);
    let total = all.len() as i64;
    let estimates = all.into_iter().skip(page.offset() as usize).take(page.limit() as usize).map(EstimateView::from).collect();
    Ok(HttpResponse::Ok().json(EstimateList { estimates, totals, meta: ListMeta::new(total, page) }))
}

/// Records an annual or supplementary estimate (ministry or regulator of the country).
#[utoipa::path(tag = "supply chain", params(IdempotencyKeyHeader), request_body = EstimateRequest, responses((status = 201, body = EstimateEnvelope)))]
#[post("/estimates")]
async fn create_estimate(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<EstimateRequest>) -> AppResult<HttpResponse> {
    let r = body.value;
    let input = estimates::create_estimate::Input::new(&r.country_code, r.substance_id, r.year, r.kind, r.quantity_g, r.reference);
    caller.check_country(&input.country_code)?;
    let input = input.check()?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| estimates::create_estimate::execute(conn, actor, input),
        |estimate| (StatusCode::CREATED, EstimateEnvelope { estimate: estimate.into() }),
    )
    .await
}

/// The path's year, checked: 1900 to 2200.
fn deaths_year(year: i32) -> AppResult<i32> {
    if (1900..=2200).contains(&year) { Ok(year) } else { Err(DomainError::parameter("year", "must be from 1900 to 2200").into()) }
}

/// A country's deaths of one year by cause, with their source (ministry, regulator; admin).
#[utoipa::path(
    tag = "supply chain",
    params(("code" = String, Path, description = "ISO 3166-1 alpha-2"), ("year" = i32, Path, minimum = 1900, maximum = 2200)),
    responses((status = 200, body = DeathsEnvelope))
)]
#[get("/countries/{code}/deaths/{year}")]
async fn get_country_deaths(state: web::Data<AppState>, caller: Caller, path: web::Path<(String, i32)>) -> AppResult<HttpResponse> {
    let (code, year) = path.into_inner();
    let (code, year) = (code.to_uppercase(), deaths_year(year)?);
    caller.check_country(&code)?;
    let view = app::run(&state.pool, move |conn| {
        if Country::find(conn, &code)?.is_none() {
            return Err(DomainError::not_found("country").into());
        }
        let rows = DeathsByCause::of_year(conn, &code, year)?;
        Ok(DeathsView::new(code, year, rows))
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeathsEnvelope { deaths: view }))
}

/// Records a country's deaths of one year by cause (cancer, HIV/AIDS and any other cause)
/// with their source, replacing the figures of that year (ministry or regulator of the
/// country); the morbidity-based estimate proposal reads them.
#[utoipa::path(
    tag = "supply chain",
    params(("code" = String, Path, description = "ISO 3166-1 alpha-2"), ("year" = i32, Path, minimum = 1900, maximum = 2200), IdempotencyKeyHeader),
    request_body = DeathsRequest,
    responses((status = 200, body = DeathsEnvelope))
)]
#[put("/countries/{code}/deaths/{year}")]
async fn put_country_deaths(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, i32)>,
    body: JsonBody<DeathsRequest>,
) -> AppResult<HttpResponse> {
    let (code, year) = path.into_inner();
    let year = deaths_year(year)?;
    let r = body.value;
    let causes = r.causes.into_iter().map(|c| estimates::put_deaths::Cause { cause: c.cause, deaths: c.deaths }).collect();
    let input = estimates::put_deaths::Input::parse(&code, year, causes, r.source)?;
    caller.check_country(&input.country_code)?;
    let country = input.country_code.clone();
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| estimates::put_deaths::execute(conn, actor, input),
        move |rows| (StatusCode::OK, DeathsEnvelope { deaths: DeathsView::new(country, year, rows) }),
    )
    .await
}
