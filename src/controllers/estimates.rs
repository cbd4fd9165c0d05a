//! `GET|POST /estimates`: INCB estimates per country, substance and year.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use bigdecimal::BigDecimal;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, EstimateKind, ResourceType, Role};
use crate::db::models::country::Country;
use crate::db::models::estimate::{Estimate, EstimateFilter, NewEstimate};
use crate::db::models::substance::Substance;
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
    caller.require(&[Role::Admin, Role::Ministry, Role::Regulator])?;
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
    caller.require(&[Role::Ministry, Role::Regulator])?;
    let request = body.value;
    let country = request.country_code.trim().to_uppercase();
    caller.check_country(&country)?;
    if request.quantity_g.0 <= 0 || !request.quantity_g.fits(20, 6) {
        return Err(DomainError::field("/quantity_g", "must be greater than 0, below 100 000 000 000 000 g, with at most 6 decimals").into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            if Country::find(conn, &country)?.is_none() {
                return Err(DomainError::field("/country_code", "unknown country").into());
            }
            if Substance::find(conn, request.substance_id)?.is_none() {
                return Err(DomainError::field("/substance_id", "unknown substance").into());
            }
            let estimate = Estimate::create(
                conn,
                &NewEstimate {
                    country_code: &country,
                    substance_id: request.substance_id,
                    year: request.year,
                    kind: request.kind,
                    quantity_g: request.quantity_g.into_inner(),
                    reference: request.reference.as_deref(),
                    created_by: Some(caller.user_id),
                },
            )
            .map_err(unique_violation_as(
                DomainError::new(ProblemCode::AnnualEstimateExists, "this year already has an annual estimate; add a supplementary one")
                    .with_error(FieldError::at("/kind", "an annual estimate exists for this country, substance and year")),
            ))?;
            let audit = AuditEntry::of(
                AuditAction::CreateEstimate,
                ResourceType::Estimate,
                Some(estimate.id.to_string()),
                Some(&country),
                json!({"substance_id": estimate.substance_id, "year": estimate.year, "kind": estimate.kind, "quantity_g": estimate.quantity_g.to_string()}),
            );
            Ok(Outcome::done((StatusCode::CREATED, EstimateEnvelope { estimate: estimate.into() }), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
}
