//! Dispensing and reporting periods: `GET|POST /facilities/{id}/dispensings`,
//! `GET /dispensings` (regulator, by patient pseudonym or prescriber),
//! `POST /facilities/{id}/reporting-periods/{period}/close`, `GET /reporting-periods`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::dispensing::close_reporting_period as period_close;
use crate::app::dispensing::{ParsedRecord, RecordStatus, record_batch, reporting_status};
use crate::app::error::{AppResult, DomainError};
use crate::auth::Caller;
use crate::db::enums::PeriodStatus;
use crate::db::models::dispensing::{Dispensing, DispensingFilter};
use crate::db::models::facility::Facility;
use crate::domain::ids::FacilityId;
use crate::domain::period::Month;
use crate::extract::{JsonBody, MAX_BODY_BYTES, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::dispensing::{
    ClosePeriodRequest, CountryDispensingQuery, DispensingBatchRequest, DispensingBatchResponse, DispensingList, DispensingView,
    FacilityDispensingQuery, FacilityPeriodView, RecordResult, ReportingPeriodEnvelope, ReportingPeriodList, ReportingPeriodQuery,
    ReportingPeriodView, parse_record,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_dispensings)
        .service(list_facility_dispensings)
        .service(list_dispensings)
        .service(close_reporting_period)
        .service(list_reporting_periods);
}

async fn load_facility(state: &AppState, id: FacilityId) -> AppResult<Facility> {
    app::run(&state.pool, move |conn| Ok(Facility::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("facility").into())
}

/// Records 1 to 10 000 dispensings of the caller's pharmacy in one transaction and answers
/// every record: `accepted`, `replayed` (its `client_record_id` was sent before) or
/// `rejected` with a problem naming the field. Bad records never block good ones; each
/// accepted record debits stock, in time order, and never makes a balance negative.
#[utoipa::path(
    tag = "dispensing",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body = DispensingBatchRequest,
    responses((status = 200, body = DispensingBatchResponse))
)]
#[post("/facilities/{id}/dispensings")]
async fn record_dispensings(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FacilityId>,
    // The one endpoint taking large bodies (up to 10 000 records), parsed record by record.
    body: JsonBody<DispensingBatchRequest, MAX_BODY_BYTES, false>,
) -> AppResult<HttpResponse> {
    let facility_id = path.into_inner();
    let raw = body.value.records;
    let (pseudonym_key, backdate_days) = (state.settings.pseudonym_key.clone(), state.settings.backdate_days);
    let key = idempotency::key_of(&req)?;
    // One connection and one transaction for the facility, its admission and the batch.
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| {
            let facility = record_batch::open(conn, facility_id)?;
            record_batch::admit(actor, &facility)?;
            let now = Utc::now();
            let parsed: Vec<ParsedRecord> =
                raw.iter().enumerate().map(|(i, r)| parse_record(i, r, &pseudonym_key, &facility.country_code, now, backdate_days)).collect();
            record_batch::execute(conn, actor, &facility, parsed)
        },
        |outcome| {
            let response = DispensingBatchResponse {
                accepted: outcome.count(RecordStatus::Accepted),
                replayed: outcome.count(RecordStatus::Replayed),
                rejected: outcome.count(RecordStatus::Rejected),
                results: outcome.results.into_iter().map(RecordResult::from).collect(),
            };
            (StatusCode::OK, response)
        },
    )
    .await
}

/// A facility's dispensings, newest first (its own users, the regulator of its country).
#[utoipa::path(tag = "dispensing", params(("id" = i64, Path), FacilityDispensingQuery), responses((status = 200, body = DispensingList)))]
#[get("/facilities/{id}/dispensings")]
async fn list_facility_dispensings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<FacilityId>,
    query: QueryParams<FacilityDispensingQuery>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_facility(&facility)?;
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = DispensingFilter {
        facility_id: Some(facility.id),
        product_id: q.product_id,
        prescriber_id: q.prescriber_id,
        from: q.from,
        to: q.to,
        ..Default::default()
    };
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Dispensing::page(conn, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok()
        .json(DispensingList { dispensings: rows.into_iter().map(DispensingView::from).collect(), meta: ListMeta::new(total, page) }))
}

/// Dispensings across the country's pharmacies for one patient pseudonym or prescriber
/// (regulator of the country, admin).
#[utoipa::path(tag = "dispensing", params(CountryDispensingQuery), responses((status = 200, body = DispensingList)))]
#[get("/dispensings")]
async fn list_dispensings(state: web::Data<AppState>, caller: Caller, query: QueryParams<CountryDispensingQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let pseudonym = match &q.patient_pseudonym {
        Some(hex_text) => Some(hex::decode(hex_text).map_err(|_| DomainError::parameter("patient_pseudonym", "must be 64 hexadecimal characters"))?),
        None => None,
    };
    if pseudonym.is_none() && q.prescriber_id.is_none() {
        return Err(DomainError::parameter("patient_pseudonym", "name a patient_pseudonym or a prescriber_id").into());
    }
    let filter = DispensingFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        patient_pseudonym: pseudonym,
        prescriber_id: q.prescriber_id,
        from: q.from,
        to: q.to,
        ..Default::default()
    };
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Dispensing::page(conn, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok()
        .json(DispensingList { dispensings: rows.into_iter().map(DispensingView::from).collect(), meta: ListMeta::new(total, page) }))
}

fn parse_month(text: &str, name: &str) -> AppResult<Month> {
    Month::parse(text).ok_or_else(|| DomainError::parameter(name, "must be a month as YYYY-MM, from 1961-01 to 2200-12").into())
}

/// Closes a month of the caller's facility with its submissions, or with an explicit zero
/// report when nothing was dispensed (silence is never read as zero). A closed month takes
/// no more dispensings.
#[utoipa::path(
    tag = "dispensing",
    params(("id" = i64, Path), ("period" = String, Path, description = "YYYY-MM"), IdempotencyKeyHeader),
    request_body = ClosePeriodRequest,
    responses((status = 201, body = ReportingPeriodEnvelope))
)]
#[post("/facilities/{id}/reporting-periods/{period}/close")]
async fn close_reporting_period(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(FacilityId, String)>,
    body: JsonBody<ClosePeriodRequest>,
) -> AppResult<HttpResponse> {
    let (facility_id, period) = path.into_inner();
    let month = parse_month(&period, "period")?;
    let facility = load_facility(&state, facility_id).await?;
    caller.check_reports_for(&facility)?;
    let input = period_close::Input::parse(facility, month, body.value.zero_report.unwrap_or(false))?;
    let grace = state.settings.reporting_grace_days;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| period_close::execute(conn, actor, input),
        move |row| {
            let reporting_period = ReportingPeriodView {
                facility_id: row.facility_id,
                period: month.label(),
                status: PeriodStatus::Closed,
                zero_report: Some(row.zero_report),
                dispensing_count: Some(row.dispensing_count),
                closed_at: Some(row.closed_at),
                due_by: month.due_by(grace),
            };
            (StatusCode::CREATED, ReportingPeriodEnvelope { reporting_period })
        },
    )
    .await
}

/// Every dispensing facility of a country with the state of its period: `closed`, `open`
/// (still within the grace days) or `late` (ministry, regulator, admin).
#[utoipa::path(tag = "dispensing", params(ReportingPeriodQuery), responses((status = 200, body = ReportingPeriodList)))]
#[get("/reporting-periods")]
async fn list_reporting_periods(state: web::Data<AppState>, caller: Caller, query: QueryParams<ReportingPeriodQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let month = parse_month(&q.period, "period")?;
    let country = caller.country_scope(q.country.as_deref())?.ok_or_else(|| DomainError::parameter("country", "is required"))?;
    let (grace, status) = (state.settings.reporting_grace_days, q.status);
    let country_code = country.clone();
    let facilities =
        app::run(&state.pool, move |conn| Ok(reporting_status::of_country(conn, &country_code, month, Utc::now(), grace, status)?)).await?;
    let total = facilities.len() as i64;
    let facilities = facilities.into_iter().skip(page.offset() as usize).take(page.limit() as usize).map(FacilityPeriodView::from).collect();
    Ok(HttpResponse::Ok().json(ReportingPeriodList {
        country_code: country,
        period: month.label(),
        due_by: month.due_by(grace),
        facilities,
        meta: ListMeta::new(total, page),
    }))
}
