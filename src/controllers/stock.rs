//! The stock ledger of a facility: `GET|POST /facilities/{id}/stock-events`,
//! `GET /facilities/{id}/stock`, `POST /facilities/{id}/inventory-counts`,
//! `POST /stock-events/{id}/reversal`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppError, AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::stock::insufficient_stock;
use crate::auth::Caller;
use crate::db::enums::{AuditAction, ReportedEventKind, ResourceType, Role, StockEventKind};
use crate::db::ledger::{self, Entry, LedgerFilter, ProductLedger};
use crate::db::models::facility::Facility;
use crate::db::models::inventory_count::{InventoryCount, NewInventoryCount};
use crate::db::models::product::Product;
use crate::db::models::stock_balance::StockBalance;
use crate::db::models::stock_event::StockEvent;
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

async fn load_facility(state: &AppState, id: i64) -> AppResult<Facility> {
    app::run(&state.pool, move |conn| Ok(Facility::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("facility").into())
}

/// A facility's ledger, newest first, each entry with the balance after it (the
/// facility's own users, the regulator of its country, admin).
#[utoipa::path(tag = "stock", params(("id" = i64, Path), StockEventQuery), responses((status = 200, body = StockEventList)))]
#[get("/facilities/{id}/stock-events")]
async fn list_stock_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    query: QueryParams<StockEventQuery>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::Regulator, Role::Wholesaler, Role::Pharmacy])?;
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
    path: web::Path<i64>,
    body: JsonBody<StockEventRequest>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_reports_for(&facility)?;
    let request = body.value;
    let delta = match request.kind.direction() {
        0 if request.quantity_units == 0 => {
            return Err(DomainError::field("/quantity_units", "must not be 0").into());
        }
        0 => request.quantity_units,
        _ if request.quantity_units <= 0 => {
            return Err(DomainError::field("/quantity_units", "must be positive (the kind gives the direction)").into());
        }
        direction => direction * request.quantity_units,
    };
    if request.kind == ReportedEventKind::Adjustment && request.reason.is_none() {
        return Err(DomainError::field("/reason", "is required for an adjustment").into());
    }
    check_business_time(Utc::now(), request.occurred_at, state.settings.backdate_days).map_err(|m| DomainError::field("/occurred_at", m))?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            if Product::find(conn, request.product_id)?.is_none() {
                return Err(DomainError::field("/product_id", "unknown product").into());
            }
            let mut ledger = ProductLedger::open(conn, &facility, request.product_id, request.occurred_at)?;
            let entry = Entry { reason: request.reason.clone(), ..Entry::new(request.kind.ledger_kind(), delta, request.occurred_at) };
            let appended = match ledger.append(conn, &caller.actor(), entry)? {
                Ok(a) => a,
                Err(e) => {
                    let attempted = json!({"kind": request.kind, "quantity_units": request.quantity_units, "occurred_at": request.occurred_at});
                    let (refusal, problem) = insufficient_stock(&facility, request.product_id, request.occurred_at, attempted, e);
                    return Ok(Outcome::Refused(refusal, problem));
                }
            };
            let audit = AuditEntry::of(
                AuditAction::RecordStockEvent,
                ResourceType::StockEvent,
                Some(appended.event.id.to_string()),
                Some(&facility.country_code),
                json!({"facility_id": facility.id, "kind": appended.event.kind, "delta_units": appended.event.delta_units}),
            );
            Ok(Outcome::done(
                (StatusCode::CREATED, StockEventEnvelope { stock_event: StockEventView::new(appended.event, appended.balance_after_units) }),
                audit,
            ))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}

/// Current balances of a facility in units and mg of base (its own users, the ministry and
/// regulator of its country, admin).
#[utoipa::path(tag = "stock", params(("id" = i64, Path)), responses((status = 200, body = StockResponse)))]
#[get("/facilities/{id}/stock")]
async fn get_stock(state: web::Data<AppState>, caller: Caller, path: web::Path<i64>) -> AppResult<HttpResponse> {
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
    path: web::Path<i64>,
    body: JsonBody<InventoryCountRequest>,
) -> AppResult<HttpResponse> {
    let facility = load_facility(&state, path.into_inner()).await?;
    caller.check_reports_for(&facility)?;
    let request = body.value;
    check_business_time(Utc::now(), request.counted_at, state.settings.backdate_days).map_err(|m| DomainError::field("/counted_at", m))?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            if Product::find(conn, request.product_id)?.is_none() {
                return Err(DomainError::field("/product_id", "unknown product").into());
            }
            let mut ledger = ProductLedger::open(conn, &facility, request.product_id, request.counted_at)?;
            let expected = ledger.balance_at(request.counted_at);
            let variance = request.counted_units - expected;
            if variance != 0
                && let Err(e) = ledger.check(request.counted_at, variance)
            {
                let attempted = json!({"kind": "count_adjustment", "counted_units": request.counted_units, "expected_units": expected, "counted_at": request.counted_at});
                let (refusal, problem) = insufficient_stock(&facility, request.product_id, request.counted_at, attempted, e);
                return Ok(Outcome::Refused(refusal, problem));
            }
            let count = InventoryCount::create(
                conn,
                &NewInventoryCount {
                    country_code: &facility.country_code,
                    facility_id: facility.id,
                    product_id: request.product_id,
                    counted_at: request.counted_at,
                    counted_units: request.counted_units,
                    expected_units: expected,
                    variance_units: variance,
                    reason: request.reason.as_deref(),
                    recorded_by: Some(caller.user_id),
                },
            )?;
            let stock_event = if variance != 0 {
                let entry = Entry {
                    inventory_count_id: Some(count.id),
                    reason: Some(request.reason.clone().unwrap_or_else(|| "inventory count variance".to_owned())),
                    ..Entry::new(StockEventKind::CountAdjustment, variance, request.counted_at)
                };
                let appended = ledger.append(conn, &caller.actor(), entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("checked placement failed: {e}")))?;
                Some(StockEventView::new(appended.event, appended.balance_after_units))
            } else {
                None
            };
            let audit = AuditEntry::of(
                AuditAction::RecordInventoryCount,
                ResourceType::InventoryCount,
                Some(count.id.to_string()),
                Some(&facility.country_code),
                json!({"facility_id": facility.id, "product_id": count.product_id, "counted_units": count.counted_units, "expected_units": expected, "variance_units": variance}),
            );
            Ok(Outcome::done((StatusCode::CREATED, InventoryCountResponse { inventory_count: count.into(), stock_event }), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
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
    path: web::Path<i64>,
    body: JsonBody<ReversalRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Wholesaler, Role::Pharmacy])?;
    let id = path.into_inner();
    let request = body.value;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let original = ledger::find_entry(conn, id)?.ok_or_else(|| DomainError::not_found("ledger entry"))?;
            let facility = Facility::find(conn, original.facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
            caller.check_reports_for(&facility)?;
            if !original.kind.is_reversible() {
                return Err(DomainError::new(ProblemCode::NotReversible, format!("a {} entry cannot be reversed", original.kind)).into());
            }
            let mut ledger = ProductLedger::open(conn, &facility, original.product_id, original.occurred_at)?;
            // Checked after the lock: two reversals of one entry serialise on the balance row.
            if StockEvent::reversal_of(conn, id)?.is_some() {
                return Err(DomainError::new(ProblemCode::AlreadyReversed, "this entry has already been reversed").into());
            }
            let entry = Entry {
                reason: Some(request.reason.clone()),
                reverses_entry_id: Some(id),
                reversed_kind: Some(original.kind),
                ..Entry::new(StockEventKind::Reversal, -original.delta_units, original.occurred_at)
            };
            let appended = match ledger
                .append(conn, &caller.actor(), entry)
                .map_err(unique_violation_as(DomainError::new(ProblemCode::AlreadyReversed, "this entry has already been reversed")))?
            {
                Ok(a) => a,
                Err(e) => {
                    let attempted = json!({"kind": "reversal", "reverses_entry_id": id, "delta_units": -original.delta_units});
                    let (refusal, problem) = insufficient_stock(&facility, original.product_id, original.occurred_at, attempted, e);
                    return Ok(Outcome::Refused(refusal, problem));
                }
            };
            let audit = AuditEntry::of(
                AuditAction::ReverseStockEvent,
                ResourceType::StockEvent,
                Some(id.to_string()),
                Some(&facility.country_code),
                json!({"reversal_id": appended.event.id, "reason": request.reason}),
            );
            Ok(Outcome::done(
                (StatusCode::CREATED, StockEventEnvelope { stock_event: StockEventView::new(appended.event, appended.balance_after_units) }),
                audit,
            ))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
