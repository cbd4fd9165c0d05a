//! `GET /analytics/*`: availability, consumption, estimates, estimate proposals, stock-outs,
//! mass balance and the regional view (ministry, regulator and admin; the regional role
//! reads the regional view only).

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::analytics::{self, availability::AvailabilityRequest};
use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::auth::Caller;
use crate::domain::period::today_in;
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::views::analytics::{
    AvailabilityQuery, AvailabilityReport, ConsumptionReport, CountryYearQuery, EstimateProposal, EstimateUseReport, MassBalanceQuery,
    MassBalanceReport, ProposalQuery, RegionalQuery, RegionalReport, StockOutQuery, StockOutReport,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_availability)
        .service(get_consumption)
        .service(get_estimate_use)
        .service(get_estimate_proposal)
        .service(get_stock_outs)
        .service(get_mass_balance)
        .service(get_regional);
}

/// The country an analytics request is about (the caller's own unless admin).
fn analysed_country(caller: &Caller, requested: Option<&str>) -> AppResult<String> {
    caller.country_scope(requested.map(str::to_uppercase).as_deref())?.ok_or_else(|| DomainError::parameter("country", "is required").into())
}

/// Consumption and dispensing per substance and region as S-DDD per million inhabitants per
/// day and morphine-equivalent mg per capita, with adequacy bands; grouped by month, sex or
/// age band on request.
#[utoipa::path(tag = "analytics", params(AvailabilityQuery), responses((status = 200, body = AvailabilityReport)))]
#[get("/analytics/availability")]
async fn get_availability(state: web::Data<AppState>, caller: Caller, query: QueryParams<AvailabilityQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = analysed_country(&caller, q.country.as_deref())?;
    let shared = state.clone();
    let report = app::run(&state.pool, move |conn| {
        // The country's today: its days end at its local midnight.
        let now = Utc::now();
        let period = analytics::country_period(conn, &country, q.year, q.from, q.to, now)?;
        let request = AvailabilityRequest {
            country,
            region_id: q.region_id,
            range: period.range,
            partial: period.partial,
            group_by: q.group_by.and_then(|g| g.grouping()),
        };
        app::cache::availability(&shared.availability_reports, conn, &request, today_in(period.range.zone, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(AvailabilityReport::from(report.as_ref())))
}

/// Supply to the retail level and dispensing per substance and month, in grams of base.
#[utoipa::path(tag = "analytics", params(AvailabilityQuery), responses((status = 200, body = ConsumptionReport)))]
#[get("/analytics/consumption")]
async fn get_consumption(state: web::Data<AppState>, caller: Caller, query: QueryParams<AvailabilityQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = analysed_country(&caller, q.country.as_deref())?;
    let region = q.region_id;
    let report = app::run(&state.pool, move |conn| {
        let period = analytics::country_period(conn, &country, q.year, q.from, q.to, Utc::now())?;
        Ok(analytics::consumption::report(conn, &country, region, period)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsumptionReport::from(&report)))
}

/// Per substance: the estimate in force, authorized and received imports, consumption and
/// utilization in percent.
#[utoipa::path(tag = "analytics", params(CountryYearQuery), responses((status = 200, body = EstimateUseReport)))]
#[get("/analytics/estimates")]
async fn get_estimate_use(state: web::Data<AppState>, caller: Caller, query: QueryParams<CountryYearQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = analysed_country(&caller, q.country.as_deref())?;
    let report = app::run(&state.pool, move |conn| {
        let range = analytics::country_period(conn, &country, Some(q.year), None, None, Utc::now())?.range;
        Ok(analytics::estimates::report(conn, &country, q.year, range)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EstimateUseReport::from(&report)))
}

/// An estimate proposal by the INCB–WHO guide's consumption-based and morbidity-based
/// methods, with every input, and the per-capita reference as a comparison only.
#[utoipa::path(tag = "analytics", params(ProposalQuery), responses((status = 200, body = EstimateProposal)))]
#[get("/analytics/estimate-proposal")]
async fn get_estimate_proposal(state: web::Data<AppState>, caller: Caller, query: QueryParams<ProposalQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country_code = analysed_country(&caller, q.country.as_deref())?;
    for (name, value) in [("reference_me_mg_per_capita", &q.reference_me_mg_per_capita), ("reserve_months", &q.reserve_months)] {
        if value.as_ref().is_some_and(|v| v.0 < 0) {
            return Err(DomainError::parameter(name, "must not be negative").into());
        }
    }
    let request = analytics::proposal::ProposalRequest {
        country: country_code,
        substance_id: q.substance_id,
        year: q.year,
        reference_me_mg_per_capita: q.reference_me_mg_per_capita.map(|d| d.0),
        reserve_months: q.reserve_months.map(|d| d.0),
        now: Utc::now(),
    };
    let proposal = app::run(&state.pool, move |conn| Ok(analytics::proposal::propose(conn, &request)?)).await?;
    Ok(HttpResponse::Ok().json(EstimateProposal::from(&proposal)))
}

/// Facility-product pairs at zero stock and running low, and access points per region.
#[utoipa::path(tag = "analytics", params(StockOutQuery), responses((status = 200, body = StockOutReport)))]
#[get("/analytics/stock-outs")]
async fn get_stock_outs(state: web::Data<AppState>, caller: Caller, query: QueryParams<StockOutQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = analysed_country(&caller, q.country.as_deref())?;
    let request =
        analytics::stock_outs::StockOutRequest { country, region_id: q.region_id, max_days_left: q.max_days_left.unwrap_or(30), now: Utc::now() };
    let report = app::run(&state.pool, move |conn| Ok(analytics::stock_outs::report(conn, &request)?)).await?;
    Ok(HttpResponse::Ok().json(StockOutReport::from(&report)))
}

/// The mass balance of each substance for a year, at the wholesale and retail levels.
#[utoipa::path(tag = "analytics", params(MassBalanceQuery), responses((status = 200, body = MassBalanceReport)))]
#[get("/analytics/mass-balance")]
async fn get_mass_balance(state: web::Data<AppState>, caller: Caller, query: QueryParams<MassBalanceQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = analysed_country(&caller, q.country.as_deref())?;
    let report = app::run(&state.pool, move |conn| {
        let range = analytics::country_period(conn, &country, Some(q.year), None, None, Utc::now())?.range;
        let tolerance = crate::rules::mass_balance_residue::tolerance(conn, &country)?;
        let balances = analytics::mass_balance::balances(conn, &country, q.year, range.to, &tolerance, q.substance_id)?;
        Ok(MassBalanceReport::from_balances(country.clone(), q.year, &balances))
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Per-country aggregates of the Central Asia bloc for a year; nothing below country level.
/// On the regional exchange hub (`TAROZI_HUB`), the packages the countries sent: per
/// country and month of the year that has ended in every member's zone, the package in
/// force or that it is missing or withheld.
#[utoipa::path(tag = "analytics", params(RegionalQuery), responses((status = 200, body = RegionalReport)))]
#[get("/analytics/regional")]
async fn get_regional(state: web::Data<AppState>, _caller: Caller, query: QueryParams<RegionalQuery>) -> AppResult<HttpResponse> {
    let year = query.0.year;
    let hub = state.settings.hub;
    let report = app::run(&state.pool, move |conn| app::regional::report(conn, hub, Some(year), Utc::now())).await?;
    Ok(HttpResponse::Ok().json(RegionalReport::from(&report)))
}
