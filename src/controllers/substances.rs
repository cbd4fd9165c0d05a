//! `GET|POST /substances`, `PATCH /substances/{id}`: versioned reference values.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::app::reference::{self, SubstanceValues, SubstanceVersion};
use crate::auth::Caller;
use crate::db::models::substance::{ReferenceValues, Substance};
use crate::domain::ids::SubstanceId;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::reference::{SubstanceEnvelope, SubstanceList, SubstanceQuery, SubstanceRequest, SubstanceView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_substances).service(create_substance).service(update_substance);
}

/// Substances with the reference values in force on `as_of` (default today).
#[utoipa::path(tag = "reference data", params(SubstanceQuery), responses((status = 200, body = SubstanceList)))]
#[get("/substances")]
async fn list_substances(state: web::Data<AppState>, _caller: Caller, query: QueryParams<SubstanceQuery>) -> AppResult<HttpResponse> {
    let query = query.0;
    let page = Page::new(query.page, query.per_page)?;
    let as_of = query.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let (views, total) = app::run(&state.pool, move |conn| {
        let all = Substance::all(conn)?;
        let mut values = ReferenceValues::in_force(conn, as_of)?;
        let total = all.len() as i64;
        let views = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.limit() as usize)
            .map(|s| {
                let v = values.iter().position(|v| v.substance_id == s.id).map(|i| values.swap_remove(i));
                SubstanceView::new(s, v)
            })
            .collect::<Vec<_>>();
        Ok((views, total))
    })
    .await?;
    Ok(HttpResponse::Ok().json(SubstanceList { substances: views, meta: ListMeta::new(total, page) }))
}

/// The reference values of a request.
fn values(r: SubstanceRequest) -> SubstanceValues {
    SubstanceValues {
        effective_from: r.effective_from,
        convention: r.convention,
        schedule: r.schedule,
        sddd_mg: r.sddd_mg,
        sddd_status: r.sddd_status,
        me_factor: r.me_factor,
        me_source: r.me_source,
        transdermal_mme_per_mcg_h: r.transdermal_mme_per_mcg_h,
        reference_salt: r.reference_salt,
        salt_base_factor: r.salt_base_factor,
        notes: r.notes,
        in_sddd_basket: r.in_sddd_basket,
        source: r.source,
    }
}

fn view(v: SubstanceVersion) -> SubstanceEnvelope {
    SubstanceEnvelope { substance: SubstanceView::new(v.substance, Some(v.values)) }
}

/// Adds a substance with its first version of reference values (admin).
#[utoipa::path(tag = "reference data", params(IdempotencyKeyHeader), request_body = SubstanceRequest, responses((status = 201, body = SubstanceEnvelope)))]
#[post("/substances")]
async fn create_substance(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<SubstanceRequest>) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let mut r = body.value;
    let inn = r.inn.take();
    let input = reference::create_substance::Input::parse(inn.as_deref(), values(r))?;
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::create_substance::execute(conn, actor, input),
        |v| (StatusCode::CREATED, view(v)),
    )
    .await
}

/// Records a new version of a substance's reference values (admin). Fields left out keep
/// the values in force on `effective_from`; history is never overwritten.
#[utoipa::path(tag = "reference data", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = SubstanceRequest, responses((status = 200, body = SubstanceEnvelope)))]
#[patch("/substances/{id}")]
async fn update_substance(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<SubstanceId>,
    body: JsonBody<SubstanceRequest>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let r = body.value;
    if r.inn.is_some() {
        return Err(DomainError::field("/inn", "cannot be changed").into());
    }
    let input = reference::update_substance::Input { substance_id: path.into_inner(), values: values(r) };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reference::update_substance::execute(conn, actor, input),
        |v| (StatusCode::OK, view(v)),
    )
    .await
}
