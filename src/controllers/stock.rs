//! The stock ledger of a facility: `GET|POST /facilities/{id}/stock-events`,
//! `GET /facilities/{id}/stock`, `POST /facilities/{id}/inventory-counts`,
//! `POST /stock-events/{id}/reversal`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::stock::record_inventory_count as inventory_count;
use crate::app::stock::record_stock_event as stock_event;
use crate::app::stock::reverse_stock_event as reversal;
use crate::auth::Caller;
use crate::db::ledger::{self, LedgerFilter};
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::stock_balance::StockBalance;
use crate::domain::ids::{FacilityId, LedgerEntryId};
use crate::domain::ledger::check_business_time;
use crate::domain::quantities::base_mg;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::supply::{
    InventoryCountRequest, InventoryCountResponse, ReversalRequest, StockEventEnvelope, StockEventList, StockEventQuery, StockEventRequest,
    StockEventView, StockLineView, StockResponse,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_stock_events).service(record_stock_event).service(get_stock).service(record_inventory_count).service(reverse_stock_event);
}

async fn load_facility(state: &AppState, id: FacilityId) -> AppResult<Facility> {
    app::run(&state.pool, move |conn| Ok(Facility::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("facility").into())
}

/// A facility's ledger, newest first, each entry with the balance after it (the
/// facility's own users, the regulator of its country, admin).
#[utoipa::path(tag = "stock", params(("id" = i64, Path), StockEventQuery), responses((status = 200, body = StockEventList)))]
#[get("/facilities/{id}/stock-events")]
async fn list_stock_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<FacilityId>,
    query: QueryParams<StockEventQuery>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_facility(&facility)?;
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = LedgerFilter { product_id: q.product_id, kind: q.kind, from: q.from, to: q.to };
    let id = facility.id;
    let (rows, total) = app::run(&state.pool, move |conn| Ok(ledger::page(conn, id, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok()
        .json(StockEventList { stock_events: rows.into_iter().map(|r| StockEventView::from_row(id, r)).collect(), meta: ListMeta::new(total, page) }))
}

/// Records a receipt, return, destruction, loss, theft or adjustment (the facility's own
/// user). An entry that would make the balance negative at its time or any later time is
/// refused with 409 `insufficient_stock`, and the attempt is recorded.
#[utoipa::path(
    tag = "stock",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body = StockEventRequest,
    responses(
        (status = 201, body = StockEventEnvelope),
        (status = 409, description = "`insufficient_stock` (the attempt is recorded)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/facilities/{id}/stock-events")]
async fn record_stock_event(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FacilityId>,
    body: JsonBody<StockEventRequest>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_reports_for(&facility)?;
    let r = body.value;
    let input = stock_event::Input::parse(facility, r.kind, r.product_id, r.quantity_units, r.occurred_at, r.reason)?;
    check_business_time(Utc::now(), input.occurred_at, state.settings.backdate_days).map_err(|m| DomainError::field("/occurred_at", m))?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| stock_event::execute(conn, actor, input),
        |a| (StatusCode::CREATED, StockEventEnvelope { stock_event: StockEventView::new(a.event, a.balance_after_units) }),
    )
    .await
}

/// Current balances of a facility in units and mg of base (its own users, the ministry and
/// regulator of its country, admin).
#[utoipa::path(tag = "stock", params(("id" = i64, Path)), responses((status = 200, body = StockResponse)))]
#[get("/facilities/{id}/stock")]
async fn get_stock(state: web::Data<AppState>, caller: Caller, path: web::Path<FacilityId>) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_facility(&facility)?;
    let id = facility.id;
    let stock = app::run(&state.pool, move |conn| {
        let balances = StockBalance::of_facility(conn, id)?;
        let products = Product::find_many(conn, &balances.iter().map(|b| b.product_id).collect::<Vec<_>>())?;
        Ok(balances
            .into_iter()
            .filter_map(|b| {
                let product = products.iter().find(|p| p.id == b.product_id)?;
                Some(StockLineView {
                    product_id: b.product_id,
                    balance_units: b.balance_units,
                    balance_mg_base: base_mg(b.balance_units, &product.base_mg_per_unit).into(),
                    zero_since: b.zero_since,
                    last_movement_at: b.last_occurred_at,
                })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(StockResponse { facility_id: id, stock }))
}

/// Records a physical count (the facility's own user): the book balance at `counted_at` is
/// kept beside the counted units, and any variance becomes a `count_adjustment` entry.
#[utoipa::path(tag = "stock", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = InventoryCountRequest, responses((status = 201, body = InventoryCountResponse)))]
#[post("/facilities/{id}/inventory-counts")]
async fn record_inventory_count(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FacilityId>,
    body: JsonBody<InventoryCountRequest>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_reports_for(&facility)?;
    let r = body.value;
    check_business_time(Utc::now(), r.counted_at, state.settings.backdate_days).map_err(|m| DomainError::field("/counted_at", m))?;
    let input =
        inventory_count::Input { facility, product_id: r.product_id, counted_units: r.counted_units, counted_at: r.counted_at, reason: r.reason };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| inventory_count::execute(conn, actor, input),
        |c| {
            let stock_event = c.adjustment.map(|a| StockEventView::new(a.event, a.balance_after_units));
            (StatusCode::CREATED, InventoryCountResponse { inventory_count: c.count.into(), stock_event })
        },
    )
    .await
}

/// Compensates a ledger entry with a reversing entry at the same business time (the
/// facility's own user). An entry is reversed at most once (409 `already_reversed`);
/// import receipts and transfers are corrected through their documents.
#[utoipa::path(tag = "stock", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = ReversalRequest, responses((status = 201, body = StockEventEnvelope)))]
#[post("/stock-events/{id}/reversal")]
async fn reverse_stock_event(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<LedgerEntryId>,
    body: JsonBody<ReversalRequest>,
) -> AppResult<HttpResponse> {
    let input = reversal::Input { stock_event_id: path.into_inner(), reason: body.value.reason };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reversal::execute(conn, actor, input),
        |a| (StatusCode::CREATED, StockEventEnvelope { stock_event: StockEventView::new(a.event, a.balance_after_units) }),
    )
    .await
}
