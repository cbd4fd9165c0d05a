//! `GET|POST /transfers`, `POST /transfers/{id}/receipt`: shipments between facilities.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::supply::confirm_transfer_receipt as transfer_receipt;
use crate::app::supply::create_transfer as shipment;
use crate::auth::Caller;
use crate::db::models::transfer::{Transfer, TransferFilter};
use crate::domain::ids::TransferId;
use crate::domain::ledger::check_business_time;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::supply::{StockEventView, TransferEnvelope, TransferList, TransferQuery, TransferReceiptRequest, TransferRequest, TransferView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_transfers).service(create_transfer).service(confirm_transfer_receipt);
}

/// Transfers the caller may see, filtered; `status=short` and `unconfirmed_days=7` list the
/// evidence of short and unconfirmed deliveries.
#[utoipa::path(tag = "supply chain", params(TransferQuery), responses((status = 200, body = TransferList)))]
#[get("/transfers")]
async fn list_transfers(state: web::Data<AppState>, caller: Caller, query: QueryParams<TransferQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let mut filter = TransferFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        facility_id: q.facility_id,
        status: q.status,
        unconfirmed_before: q.unconfirmed_days.map(|d| Utc::now() - chrono::Duration::days(d)),
        product_id: q.product_id,
    };
    if caller.role.is_facility_role() {
        if q.facility_id.is_some_and(|f| Some(f) != caller.facility_id) {
            return Err(DomainError::forbidden("a facility user reaches only its own facility").into());
        }
        filter.facility_id = caller.facility_id;
    }
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Transfer::page(conn, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(TransferList { transfers: rows.into_iter().map(TransferView::from).collect(), meta: ListMeta::new(total, page) }))
}

/// Ships stock to another licensed facility of the country (the source's own user); the
/// source's stock is debited at `shipped_at`.
#[utoipa::path(
    tag = "supply chain",
    params(IdempotencyKeyHeader),
    request_body = TransferRequest,
    responses(
        (status = 201, body = TransferEnvelope),
        (status = 409, description = "`insufficient_stock` (the attempt is recorded)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/transfers")]
async fn create_transfer(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<TransferRequest>) -> AppResult<HttpResponse> {
    let r = body.value;
    check_business_time(Utc::now(), r.shipped_at, state.settings.backdate_days).map_err(|m| DomainError::field("/shipped_at", m))?;
    let input = shipment::Input::parse(r.from_facility_id, r.to_facility_id, r.product_id, r.quantity_units, r.shipped_at)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| shipment::execute(conn, actor, input),
        |s| {
            let stock_event = Some(StockEventView::new(s.appended.event, s.appended.balance_after_units));
            (StatusCode::CREATED, TransferEnvelope { transfer: s.transfer.into(), stock_event })
        },
    )
    .await
}

/// Confirms what arrived (the destination's own user): credits its stock with the units
/// received. Fewer than shipped makes the transfer `short`.
#[utoipa::path(tag = "supply chain", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = TransferReceiptRequest, responses((status = 201, body = TransferEnvelope)))]
#[post("/transfers/{id}/receipt")]
async fn confirm_transfer_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<TransferId>,
    body: JsonBody<TransferReceiptRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    check_business_time(Utc::now(), r.received_at, state.settings.backdate_days).map_err(|m| DomainError::field("/received_at", m))?;
    let input = transfer_receipt::Input { transfer_id: path.into_inner(), quantity_units: r.quantity_units, received_at: r.received_at };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| transfer_receipt::execute(conn, actor, input),
        |t| {
            let stock_event = t.appended.map(|a| StockEventView::new(a.event, a.balance_after_units));
            (StatusCode::CREATED, TransferEnvelope { transfer: t.transfer.into(), stock_event })
        },
    )
    .await
}
