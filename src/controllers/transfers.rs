//! `GET|POST /transfers`, `POST /transfers/{id}/receipt`: shipments between facilities.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppError, AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::stock::insufficient_stock;
use crate::auth::Caller;
use crate::db::enums::{AuditAction, ResourceType, Role, StockEventKind};
use crate::db::ledger::{Entry, ProductLedger};
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::transfer::{NewTransfer, Transfer, TransferFilter};
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
    caller.require(&[Role::Admin, Role::Regulator, Role::Wholesaler, Role::Pharmacy])?;
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
    caller.require(&[Role::Wholesaler, Role::Pharmacy])?;
    let request = body.value;
    check_business_time(Utc::now(), request.shipped_at, state.settings.backdate_days).map_err(|m| DomainError::field("/shipped_at", m))?;
    if request.from_facility_id == request.to_facility_id {
        return Err(DomainError::field("/to_facility_id", "must differ from from_facility_id").into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(&state, key, caller.actor(), fingerprint, move |conn, _actor| {
            let source = Facility::find(conn, request.from_facility_id)?.ok_or_else(|| DomainError::field("/from_facility_id", "unknown facility"))?;
            caller.check_reports_for(&source)?;
            let destination = Facility::find(conn, request.to_facility_id)?.ok_or_else(|| DomainError::field("/to_facility_id", "unknown facility"))?;
            if destination.country_code != source.country_code {
                return Err(DomainError::field("/to_facility_id", "must be a facility of the same country (cross-border movements are imports and exports)").into());
            }
            let day = request.shipped_at.date_naive();
            if !source.licensed_on(day) {
                return Err(DomainError::new(ProblemCode::LicenceExpired, format!("the shipping facility's licence expired on {}", source.licence_valid_until)).into());
            }
            if !destination.licensed_on(day) {
                return Err(DomainError::field("/to_facility_id", format!("the destination's licence expired on {}", destination.licence_valid_until)).into());
            }
            if Product::find(conn, request.product_id)?.is_none() {
                return Err(DomainError::field("/product_id", "unknown product").into());
            }
            let mut ledger = ProductLedger::open(conn, &source, request.product_id, request.shipped_at)?;
            if let Err(e) = ledger.check(request.shipped_at, -request.quantity_units) {
                let (refusal, problem) = insufficient_stock(&source, request.product_id, request.shipped_at, json!({"kind": "transfer_out", "to_facility_id": destination.id, "quantity_units": request.quantity_units}), e);
                return Ok(Outcome::Refused(refusal, problem));
            }
            let transfer = Transfer::create(
                conn,
                &NewTransfer {
                    country_code: &source.country_code,
                    from_facility_id: source.id,
                    to_facility_id: destination.id,
                    product_id: request.product_id,
                    quantity_units: request.quantity_units,
                    shipped_at: request.shipped_at,
                    shipped_by: Some(caller.user_id),
                },
            )?;
            let entry = Entry { transfer_id: Some(transfer.id), ..Entry::new(StockEventKind::TransferOut, -request.quantity_units, request.shipped_at) };
            let appended = ledger.append(conn, &caller.actor(), entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("checked placement failed: {e}")))?;
            let audit = AuditEntry::of(
                AuditAction::CreateTransfer,
                ResourceType::Transfer,
                Some(transfer.id.to_string()),
                Some(&source.country_code),
                json!({"to_facility_id": destination.id, "product_id": transfer.product_id, "quantity_units": transfer.quantity_units, "stock_event_id": appended.event.id}),
            );
            Ok(Outcome::done((
                StatusCode::CREATED,
                TransferEnvelope { transfer: transfer.into(), stock_event: Some(StockEventView::new(appended.event, appended.balance_after_units)) },
            ), audit))
        }, |reply| reply)
    .await?;
    Ok(stored)
}

/// Confirms what arrived (the destination's own user): credits its stock with the units
/// received. Fewer than shipped makes the transfer `short`.
#[utoipa::path(tag = "supply chain", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = TransferReceiptRequest, responses((status = 201, body = TransferEnvelope)))]
#[post("/transfers/{id}/receipt")]
async fn confirm_transfer_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<i64>,
    body: JsonBody<TransferReceiptRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Wholesaler, Role::Pharmacy])?;
    let id = path.into_inner();
    let request = body.value;
    check_business_time(Utc::now(), request.received_at, state.settings.backdate_days).map_err(|m| DomainError::field("/received_at", m))?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let transfer = Transfer::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("transfer"))?;
            let destination = Facility::find(conn, transfer.to_facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
            caller.check_reports_for(&destination)?;
            if transfer.received_units.is_some() {
                return Err(DomainError::new(ProblemCode::AlreadyReceived, "this transfer's receipt is already confirmed").into());
            }
            if request.quantity_units > transfer.quantity_units {
                return Err(DomainError::field("/quantity_units", format!("exceeds the {} units shipped", transfer.quantity_units)).into());
            }
            if request.received_at < transfer.shipped_at {
                return Err(DomainError::field("/received_at", "is before the shipment").into());
            }
            let confirmed = Transfer::confirm(conn, id, request.quantity_units, request.received_at, caller.user_id)?;
            let stock_event = if request.quantity_units > 0 {
                let mut ledger = ProductLedger::open(conn, &destination, transfer.product_id, request.received_at)?;
                let entry = Entry { transfer_id: Some(id), ..Entry::new(StockEventKind::TransferIn, request.quantity_units, request.received_at) };
                let appended = ledger
                    .append(conn, &caller.actor(), entry)?
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("a receipt cannot go negative: {e}")))?;
                Some(StockEventView::new(appended.event, appended.balance_after_units))
            } else {
                None
            };
            let audit = AuditEntry::of(
                AuditAction::ConfirmTransferReceipt,
                ResourceType::Transfer,
                Some(id.to_string()),
                Some(&destination.country_code),
                json!({"received_units": request.quantity_units, "shipped_units": transfer.quantity_units}),
            );
            Ok(Outcome::done((StatusCode::CREATED, TransferEnvelope { transfer: confirmed.into(), stock_event }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
