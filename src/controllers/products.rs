//! `GET|POST /products`: preparations with their exact base content per unit.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use bigdecimal::BigDecimal;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, DosageForm, ResourceType, Role};
use crate::db::models::product::{NewProduct, Product};
use crate::db::models::substance::Substance;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::reference::{NewProductRequest, ProductEnvelope, ProductList, ProductQuery, ProductView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_products).service(create_product);
}

#[utoipa::path(tag = "reference data", params(ProductQuery), responses((status = 200, body = ProductList)))]
#[get("/products")]
async fn list_products(state: web::Data<AppState>, _caller: Caller, query: QueryParams<ProductQuery>) -> AppResult<HttpResponse> {
    let query = query.0;
    let page = Page::new(query.page, query.per_page)?;
    let substance = query.substance_id;
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Product::page(conn, substance, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(ProductList { products: rows.into_iter().map(ProductView::from).collect(), meta: ListMeta::new(total, page) }))
}

fn check(request: &NewProductRequest) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let zero = BigDecimal::from(0);
    if request.base_mg_per_unit.0 <= zero {
        errors.push(FieldError::at("/base_mg_per_unit", "must be greater than 0"));
    } else if request.base_mg_per_unit.fraction_digits() > 6 {
        errors.push(FieldError::at("/base_mg_per_unit", "at most 6 decimals (0.000001 mg)"));
    } else if request.base_mg_per_unit.0 >= 1_000_000_000_000i64 {
        errors.push(FieldError::at("/base_mg_per_unit", "is too large"));
    }
    match (&request.dosage_form, &request.delivery_mcg_per_hour) {
        (DosageForm::TransdermalPatch, None) => errors.push(FieldError::at("/delivery_mcg_per_hour", "is required for a transdermal patch")),
        (DosageForm::TransdermalPatch, Some(rate)) if rate.0 <= zero || !rate.fits(18, 6) => {
            errors.push(FieldError::at("/delivery_mcg_per_hour", "must be greater than 0, below 10^12, with at most 6 decimals"))
        }
        (form, Some(_)) if *form != DosageForm::TransdermalPatch => {
            errors.push(FieldError::at("/delivery_mcg_per_hour", "applies to transdermal patches only"))
        }
        _ => {}
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::validation(errors)) }
}

/// Adds a product (admin).
#[utoipa::path(tag = "reference data", params(IdempotencyKeyHeader), request_body = NewProductRequest, responses((status = 201, body = ProductEnvelope)))]
#[post("/products")]
async fn create_product(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewProductRequest>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    check(&body.value)?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            if Substance::find(conn, request.substance_id)?.is_none() {
                return Err(DomainError::field("/substance_id", "unknown substance").into());
            }
            let product = Product::create(
                conn,
                &NewProduct {
                    name: request.name.trim(),
                    substance_id: request.substance_id,
                    base_mg_per_unit: request.base_mg_per_unit.into_inner(),
                    dosage_form: request.dosage_form,
                    unit: request.unit,
                    delivery_mcg_per_hour: request.delivery_mcg_per_hour.map(|d| d.into_inner()),
                },
            )
            .map_err(unique_violation_as(
                DomainError::new(ProblemCode::ProductExists, "a product with this name exists").with_error(FieldError::at("/name", "is taken")),
            ))?;
            let audit = AuditEntry::of(
                AuditAction::CreateProduct,
                ResourceType::Product,
                Some(product.id.to_string()),
                None,
                json!({"name": product.name, "substance_id": product.substance_id, "base_mg_per_unit": product.base_mg_per_unit.to_string()}),
            );
            Ok(Outcome::done((StatusCode::CREATED, ProductEnvelope { product: ProductView::from(product) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
