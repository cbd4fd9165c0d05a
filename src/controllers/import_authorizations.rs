//! `GET|POST /import-authorizations`, `POST /import-authorizations/{id}/receipts`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::supply::issue_import_authorization;
use crate::app::supply::record_import_receipt as import_receipt;
use crate::auth::Caller;
use crate::db::enums::Role;
use crate::db::models::import_authorization::{AuthorizationFilter, ImportAuthorization};
use crate::domain::ids::ImportAuthorizationId;
use crate::domain::ledger::check_business_time;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::supply::{
    ImportAuthorizationEnvelope, ImportAuthorizationList, ImportAuthorizationQuery, ImportAuthorizationRequest, ImportAuthorizationView,
    ImportReceiptResponse, ReceiptRequest, StockEventView,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_import_authorizations).service(create_import_authorization).service(record_import_receipt);
}

/// Authorizations the caller may see: the regulator its country's, an importer its own.
#[utoipa::path(tag = "supply chain", params(ImportAuthorizationQuery), responses((status = 200, body = ImportAuthorizationList)))]
#[get("/import-authorizations")]
async fn list_import_authorizations(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ImportAuthorizationQuery>,
) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let mut filter = AuthorizationFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        importer_facility_id: q.importer_facility_id,
        year: q.year,
        substance_id: q.substance_id,
    };
    if caller.role == Role::Wholesaler {
        filter.importer_facility_id = caller.facility_id;
    }
    let (views, total) = app::run(&state.pool, move |conn| {
        let (rows, total) = ImportAuthorization::page(conn, &filter, page.offset(), page.limit())?;
        let ids: Vec<ImportAuthorizationId> = rows.iter().map(|a| a.id).collect();
        let received = ImportAuthorization::received_units(conn, &ids)?;
        let views = rows
            .into_iter()
            .map(|a| {
                let r = received.iter().find(|(id, _)| *id == a.id).map_or(0, |(_, u)| *u);
                ImportAuthorizationView::new(a, r)
            })
            .collect::<Vec<_>>();
        Ok((views, total))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ImportAuthorizationList { import_authorizations: views, meta: ListMeta::new(total, page) }))
}

/// Issues an import authorization to a licensed importer (regulator of its country).
///
/// Refused with 422 `estimate_exceeded`, stating `headroom_g`, when the year's authorized
/// imports of the substance would pass the estimate total in force.
#[utoipa::path(
    tag = "supply chain",
    params(IdempotencyKeyHeader),
    request_body = ImportAuthorizationRequest,
    responses(
        (status = 201, body = ImportAuthorizationEnvelope),
        (status = 422, description = "`estimate_exceeded` (with `headroom_g`) or a bad field", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/import-authorizations")]
async fn create_import_authorization(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<ImportAuthorizationRequest>,
) -> AppResult<HttpResponse> {
    let r = &body.value;
    let input = issue_import_authorization::Input::parse(
        &r.number,
        r.importer_facility_id,
        &r.exporting_country,
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
        move |conn, actor| issue_import_authorization::execute(conn, actor, input),
        |a| (StatusCode::CREATED, ImportAuthorizationEnvelope { import_authorization: ImportAuthorizationView::new(a, 0) }),
    )
    .await
}

/// Records a shipment received against an authorization (the importer's own user);
/// credits the importer's stock. Beyond the authorized total, outside the validity or
/// with an expired licence it is refused (422) and the attempt is recorded.
#[utoipa::path(
    tag = "supply chain",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body = ReceiptRequest,
    responses(
        (status = 201, body = ImportReceiptResponse),
        (status = 422, description = "`authorization_exceeded`, `authorization_not_valid`, `licence_expired` (recorded) or a bad field", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/import-authorizations/{id}/receipts")]
async fn record_import_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<ImportAuthorizationId>,
    body: JsonBody<ReceiptRequest>,
) -> AppResult<HttpResponse> {
    let r = &body.value;
    check_business_time(chrono::Utc::now(), r.received_at, state.settings.backdate_days).map_err(|m| DomainError::field("/received_at", m))?;
    let input = import_receipt::Input { import_authorization_id: path.into_inner(), quantity_units: r.quantity_units, received_at: r.received_at };
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| import_receipt::execute(conn, actor, input),
        |r| {
            (
                StatusCode::CREATED,
                ImportReceiptResponse {
                    stock_event: StockEventView::new(r.appended.event, r.appended.balance_after_units),
                    import_authorization: ImportAuthorizationView::new(r.authorization, r.received_units),
                },
            )
        },
    )
    .await
}
