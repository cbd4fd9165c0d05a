//! `GET|POST /import-authorizations`, `POST /import-authorizations/{id}/receipts`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::prelude::*;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::db;
use crate::db::enums::{FacilityKind, Role, StockEventKind};
use crate::db::ledger::{Entry, ProductLedger};
use crate::db::models::audit_event::AuditEvent;
use crate::db::models::estimate::Estimate;
use crate::db::models::facility::Facility;
use crate::db::models::import_authorization::{AuthorizationFilter, ImportAuthorization, NewImportAuthorization};
use crate::db::models::product::Product;
use crate::db::models::refused_attempt::{NewRefusedAttempt, RefusedAttempt};
use crate::domain::decimal::Decimal;
use crate::domain::ledger::check_business_time;
use crate::domain::quantities::{base_g, units_within};
use crate::error::{AppError, AppResult, FieldError, Problem, unique_violation_as};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader, Outcome};
use crate::startup::AppState;
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
    caller.require(&[Role::Admin, Role::Regulator, Role::Wholesaler])?;
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
    let (views, total) = db::run(&state.pool, move |conn| {
        let (rows, total) = ImportAuthorization::page(conn, &filter, page.offset(), page.limit())?;
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
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
    caller.require(&[Role::Regulator])?;
    let request = body.value;
    let exporting = request.exporting_country.trim().to_uppercase();
    if !exporting.bytes().all(|b| b.is_ascii_uppercase()) || exporting.len() != 2 {
        return Err(Problem::field("/exporting_country", "must be an ISO 3166-1 alpha-2 code").into());
    }
    if request.valid_until < request.valid_from {
        return Err(Problem::field("/valid_until", "must not be before valid_from").into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::write(conn, caller.user_id, key.as_deref(), fingerprint, |conn| {
            let importer = Facility::find(conn, request.importer_facility_id)?.ok_or_else(|| Problem::field("/importer_facility_id", "unknown facility"))?;
            caller.check_country(&importer.country_code)?;
            if !matches!(importer.kind, FacilityKind::Importer | FacilityKind::Wholesaler) {
                return Err(Problem::field("/importer_facility_id", "must be a licensed importer or wholesaler").into());
            }
            if !importer.licensed_on(request.valid_from) {
                return Err(Problem::field("/importer_facility_id", "the importer's licence has expired by valid_from").into());
            }
            if exporting == importer.country_code {
                return Err(Problem::field("/exporting_country", "must be another country").into());
            }
            let product = Product::find(conn, request.product_id)?.ok_or_else(|| Problem::field("/product_id", "unknown product"))?;
            let year = chrono::Datelike::year(&request.valid_from);
            let grams = base_g(request.quantity_units, &product.base_mg_per_unit);
            // Serialise authorizations of one country, substance and year.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(format!("estimate:{}:{}:{year}", importer.country_code, product.substance_id))
                .execute(conn)?;
            let estimate = Estimate::total_g(conn, &importer.country_code, product.substance_id, year)?.unwrap_or_default();
            let authorized = ImportAuthorization::authorized_g(conn, &importer.country_code, product.substance_id, year)?;
            let headroom = (&estimate - &authorized).max(Default::default());
            if &authorized + &grams > estimate {
                return Err(Problem::unprocessable(
                    "estimate_exceeded",
                    format!("{year} imports of this substance would exceed the estimate in force: {} g of base left, {} g asked", Decimal::from(headroom.clone()), Decimal::from(grams.clone())),
                )
                .with("headroom_g", serde_json::to_value(Decimal::from(headroom.clone())).unwrap_or_default())
                .with("headroom_units", units_within(&headroom, &product.base_mg_per_unit))
                .with("estimate_g", serde_json::to_value(Decimal::from(estimate)).unwrap_or_default())
                .with("authorized_g", serde_json::to_value(Decimal::from(authorized)).unwrap_or_default())
                .with("requested_g", serde_json::to_value(Decimal::from(grams)).unwrap_or_default())
                .into());
            }
            let authorization = ImportAuthorization::create(
                conn,
                &NewImportAuthorization {
                    number: request.number.trim(),
                    country_code: &importer.country_code,
                    importer_facility_id: importer.id,
                    exporting_country: &exporting,
                    product_id: product.id,
                    substance_id: product.substance_id,
                    quantity_units: request.quantity_units,
                    quantity_g: grams,
                    year,
                    valid_from: request.valid_from,
                    valid_until: request.valid_until,
                    issued_by: Some(caller.user_id),
                },
            )
            .map_err(unique_violation_as(
                Problem::conflict("authorization_number_taken", "an authorization with this number exists").with_error(FieldError::at("/number", "is taken")),
            ))?;
            AuditEvent::record(
                conn,
                &caller.actor(),
                "create_import_authorization",
                "import_authorization",
                Some(authorization.id.to_string()),
                Some(&authorization.country_code),
                json!({"number": authorization.number, "importer_facility_id": importer.id, "product_id": product.id, "quantity_units": authorization.quantity_units, "quantity_g": authorization.quantity_g.to_string()}),
            )?;
            Ok(Outcome::Done(StatusCode::CREATED, ImportAuthorizationEnvelope { import_authorization: ImportAuthorizationView::new(authorization, 0) }))
        })
    })
    .await?;
    Ok(stored.into_response())
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
    path: web::Path<i64>,
    body: JsonBody<ReceiptRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Wholesaler])?;
    let id = path.into_inner();
    let request = body.value;
    check_business_time(chrono::Utc::now(), request.received_at, state.settings.backdate_days).map_err(|m| Problem::field("/received_at", m))?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::write(conn, caller.user_id, key.as_deref(), fingerprint, |conn| {
            let authorization = ImportAuthorization::find_for_update(conn, id)?.ok_or_else(|| Problem::not_found("import authorization"))?;
            if caller.facility_id != Some(authorization.importer_facility_id) {
                return Err(Problem::forbidden("only the authorized importer records receipts against it").into());
            }
            let facility = Facility::find(conn, authorization.importer_facility_id)?.ok_or_else(|| Problem::not_found("facility"))?;
            let day = request.received_at.date_naive();
            let received = ImportAuthorization::received_units(conn, &[id])?.first().map_or(0, |(_, u)| *u);
            let remaining = authorization.quantity_units - received;
            let refusal = if day < authorization.valid_from || day > authorization.valid_until {
                Some(Problem::unprocessable(
                    "authorization_not_valid",
                    format!("the authorization is valid from {} to {}", authorization.valid_from, authorization.valid_until),
                ))
            } else if !facility.licensed_on(day) {
                Some(Problem::unprocessable("licence_expired", format!("the importer's licence expired on {}", facility.licence_valid_until)))
            } else if request.quantity_units > remaining {
                Some(
                    Problem::unprocessable("authorization_exceeded", format!("only {remaining} of {} authorized units remain", authorization.quantity_units))
                        .with("remaining_units", remaining),
                )
            } else {
                None
            };
            if let Some(problem) = refusal {
                let attempt = RefusedAttempt::record(
                    conn,
                    &caller.actor(),
                    NewRefusedAttempt {
                        country_code: &facility.country_code,
                        facility_id: Some(facility.id),
                        product_id: Some(authorization.product_id),
                        code: problem.code,
                        occurred_at: request.received_at,
                        recorded_by: None,
                        request_id: None,
                        details: json!({"import_authorization_id": id, "quantity_units": request.quantity_units, "received_units": received, "authorized_units": authorization.quantity_units}),
                    },
                )?;
                return Ok(Outcome::Refused(problem.with("refused_attempt_id", attempt)));
            }
            let mut ledger = ProductLedger::open(conn, &facility, authorization.product_id, request.received_at)?;
            let entry = Entry { import_authorization_id: Some(id), ..Entry::new(StockEventKind::ImportReceipt, request.quantity_units, request.received_at) };
            let appended = ledger.append(conn, &caller.actor(), entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("a receipt cannot go negative: {e}")))?;
            AuditEvent::record(
                conn,
                &caller.actor(),
                "record_import_receipt",
                "import_authorization",
                Some(id.to_string()),
                Some(&facility.country_code),
                json!({"stock_event_id": appended.event.id, "quantity_units": request.quantity_units}),
            )?;
            Ok(Outcome::Done(
                StatusCode::CREATED,
                ImportReceiptResponse {
                    stock_event: StockEventView::new(appended.event, appended.balance_after_units),
                    import_authorization: ImportAuthorizationView::new(authorization, received + request.quantity_units),
                },
            ))
        })
    })
    .await?;
    Ok(stored.into_response())
}
