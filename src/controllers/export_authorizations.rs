//! `GET|POST /export-authorizations`, `POST /export-authorizations/{id}/shipments`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::supply::issue_export_authorization;
use crate::app::supply::record_export_shipment as shipment;
use crate::auth::Caller;
use crate::db::enums::Role;
use crate::db::models::export_authorization::{ExportAuthorization, ExportAuthorizationFilter};
use crate::domain::ids::ExportAuthorizationId;
use crate::domain::ledger::check_business_time;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::exports::{
    ExportAuthorizationEnvelope, ExportAuthorizationList, ExportAuthorizationQuery, ExportAuthorizationRequest, ExportAuthorizationView,
    ExportShipmentRequest, ExportShipmentResponse,
};
use crate::views::supply::StockEventView;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_export_authorizations).service(create_export_authorization).service(record_export_shipment);
}

/// Export authorizations the caller may see: the regulator its country's, an exporter its own.
#[utoipa::path(tag = "supply chain", params(ExportAuthorizationQuery), responses((status = 200, body = ExportAuthorizationList)))]
#[get("/export-authorizations")]
async fn list_export_authorizations(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ExportAuthorizationQuery>,
) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let mut filter = ExportAuthorizationFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        exporter_facility_id: q.exporter_facility_id,
        year: q.year,
        substance_id: q.substance_id,
    };
    if caller.role == Role::Wholesaler {
        filter.exporter_facility_id = caller.facility_id;
    }
    let (views, total) = app::run(&state.pool, move |conn| {
        let (rows, total) = ExportAuthorization::page(conn, &filter, page.offset(), page.limit())?;
        let ids: Vec<ExportAuthorizationId> = rows.iter().map(|a| a.id).collect();
        let shipped = ExportAuthorization::shipped_units(conn, &ids)?;
        let views = rows
            .into_iter()
            .map(|a| {
                let s = shipped.iter().find(|(id, _)| *id == a.id).map_or(0, |(_, u)| *u);
                ExportAuthorizationView::new(a, s)
            })
            .collect::<Vec<_>>();
        Ok((views, total))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ExportAuthorizationList { export_authorizations: views, meta: ListMeta::new(total, page) }))
}

/// Issues an export authorization to a licensed exporter (importer or wholesaler) of the
/// regulator's country, naming the importing country and its import certificate.
#[utoipa::path(
    tag = "supply chain",
    params(IdempotencyKeyHeader),
    request_body = ExportAuthorizationRequest,
    responses(
        (status = 201, body = ExportAuthorizationEnvelope),
        (status = 409, description = "`authorization_number_taken`", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "a bad field", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/export-authorizations")]
async fn create_export_authorization(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<ExportAuthorizationRequest>,
) -> AppResult<HttpResponse> {
    let r = &body.value;
    let input = issue_export_authorization::Input::parse(
        &r.number,
        r.exporter_facility_id,
        &r.importing_country,
        &r.import_certificate_number,
        r.product_id,
        r.quantity_units,
        r.valid_from,
        r.valid_until,
    )?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| issue_export_authorization::execute(conn, actor, input),
        |a| (StatusCode::CREATED, ExportAuthorizationEnvelope { export_authorization: ExportAuthorizationView::new(a, 0) }),
    )
    .await
}

/// Records a shipment against an export authorization (the exporter's own user); debits the
/// exporter's stock with an `export` entry. Beyond the authorized total, outside the
/// validity or with an expired licence it is refused (422), beyond the stock held (at that
/// time or any later one) refused with 409 `insufficient_stock`; each attempt is recorded.
#[utoipa::path(
    tag = "supply chain",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body = ExportShipmentRequest,
    responses(
        (status = 201, body = ExportShipmentResponse),
        (status = 409, description = "`insufficient_stock` (recorded)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`authorization_exceeded`, `authorization_not_valid`, `licence_expired` (recorded) or a bad field", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/export-authorizations/{id}/shipments")]
async fn record_export_shipment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<ExportAuthorizationId>,
    body: JsonBody<ExportShipmentRequest>,
) -> AppResult<HttpResponse> {
    let r = &body.value;
    check_business_time(chrono::Utc::now(), r.shipped_at, state.settings.backdate_days).map_err(|m| DomainError::field("/shipped_at", m))?;
    let input = shipment::Input { export_authorization_id: path.into_inner(), quantity_units: r.quantity_units, shipped_at: r.shipped_at };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| shipment::execute(conn, actor, input),
        |s| {
            (
                StatusCode::CREATED,
                ExportShipmentResponse {
                    stock_event: StockEventView::new(s.appended.event, s.appended.balance_after_units),
                    export_authorization: ExportAuthorizationView::new(s.authorization, s.shipped_units),
                },
            )
        },
    )
    .await
}
