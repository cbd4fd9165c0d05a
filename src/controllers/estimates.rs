//! `GET|POST /estimates`: INCB estimates per country, substance and year.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use bigdecimal::BigDecimal;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::AppResult;
use crate::app::estimates;
use crate::auth::Caller;
use crate::db::enums::EstimateKind;
use crate::db::models::estimate::{Estimate, EstimateFilter};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::supply::{EstimateEnvelope, EstimateList, EstimateQuery, EstimateRequest, EstimateTotalView, EstimateView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_estimates).service(create_estimate);
}

/// The totals in force of the estimates given.
fn totals(estimates: &[Estimate]) -> Vec<EstimateTotalView> {
    let mut sums: BTreeMap<(String, i32, i64), (BigDecimal, BigDecimal)> = BTreeMap::new();
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
