//! `GET|POST /products`: preparations with their exact base content and labelled strength per unit.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::AppResult;
use crate::app::reference;
use crate::auth::Caller;
use crate::db::models::product::Product;
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
    let (substance, unknown) = (query.substance_id, query.strength_unknown);
    let (rows, total) = app::run(&state.pool, move |conn| Ok(Product::page(conn, substance, unknown, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(ProductList { products: rows.into_iter().map(ProductView::from).collect(), meta: ListMeta::new(total, page) }))
}

/// Adds a product (admin).
#[utoipa::path(tag = "reference data", params(IdempotencyKeyHeader), request_body = NewProductRequest, responses((status = 201, body = ProductEnvelope)))]
#[post("/products")]
async fn create_product(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewProductRequest>) -> AppResult<HttpResponse> {
    let r = body.value;
    let input = reference::create_product::Input::parse(
        r.name,
        r.substance_id,
        r.base_mg_per_unit,
        r.dosage_form,
        r.unit,
        r.delivery_mcg_per_hour,
        (r.strength_mg_per_unit, r.strength_salt),
    )?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::create_product::execute(conn, actor, input),
        |product| (StatusCode::CREATED, ProductEnvelope { product: ProductView::from(product) }),
    )
    .await
}
