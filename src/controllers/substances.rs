//! `GET|POST /substances`, `PATCH /substances/{id}`: versioned reference values.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use bigdecimal::BigDecimal;
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::Caller;
use crate::db::enums::{AuditAction, Convention, ResourceType, Role};
use crate::db::models::substance::{NewReferenceValues, ReferenceValues, Substance};
use crate::domain::decimal::Decimal;
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

fn positive(pointer: &str, value: &Option<Decimal>, max_fraction_digits: i64, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        if v.0 <= 0 {
            errors.push(FieldError::at(pointer, "must be greater than 0"));
        } else if !v.fits(18, max_fraction_digits) {
            errors.push(FieldError::at(
                pointer,
                format!("at most {} digits before the point and {max_fraction_digits} decimals", 18 - max_fraction_digits),
            ));
        }
    }
}

/// Merges `request` onto `base` (the current version, if any) into a new version.
fn new_version(substance_id: i64, base: Option<ReferenceValues>, request: SubstanceRequest, recorded_by: i64) -> AppResult<NewReferenceValues> {
    let today = chrono::Utc::now().date_naive();
    let base = base.map(NewReferenceValues::from);
    let pick = |new: Option<Option<Decimal>>, old: Option<BigDecimal>| match new {
        Some(v) => v.map(Decimal::into_inner),
        None => old,
    };
    let mut errors = Vec::new();
    positive("/sddd_mg", &request.sddd_mg.clone().flatten(), 6, &mut errors);
    positive("/me_factor", &request.me_factor.clone().flatten(), 6, &mut errors);
    positive("/transdermal_mme_per_mcg_h", &request.transdermal_mme_per_mcg_h.clone().flatten(), 6, &mut errors);
    positive("/salt_base_factor", &request.salt_base_factor.clone().flatten(), 6, &mut errors);
    if let Some(Some(f)) = &request.salt_base_factor
        && f.0 > 1
    {
        errors.push(FieldError::at("/salt_base_factor", "must not exceed 1"));
    }
    let convention = request.convention.or(base.as_ref().map(|b| b.convention));
    if convention.is_none() {
        errors.push(FieldError::at("/convention", "is required"));
    }
    let sddd_status = request.sddd_status.clone().or(base.as_ref().map(|b| b.sddd_status.clone()));
    if sddd_status.is_none() {
        errors.push(FieldError::at("/sddd_status", "is required"));
    }
    if !errors.is_empty() {
        return Err(DomainError::validation(errors).into());
    }
    let b = base.unwrap_or(NewReferenceValues {
        substance_id,
        effective_from: today,
        convention: Convention::NotControlled,
        schedule: None,
        sddd_mg: None,
        sddd_status: String::new(),
        me_factor: None,
        me_source: None,
        transdermal_mme_per_mcg_h: None,
        reference_salt: None,
        salt_base_factor: None,
        notes: None,
        source: String::new(),
        recorded_by: None,
    });
    Ok(NewReferenceValues {
        substance_id,
        effective_from: request.effective_from.unwrap_or(today),
        convention: convention.unwrap_or(b.convention),
        schedule: request.schedule.unwrap_or(b.schedule),
        sddd_mg: pick(request.sddd_mg, b.sddd_mg),
        sddd_status: sddd_status.unwrap_or_default(),
        me_factor: pick(request.me_factor, b.me_factor),
        me_source: request.me_source.unwrap_or(b.me_source),
        transdermal_mme_per_mcg_h: pick(request.transdermal_mme_per_mcg_h, b.transdermal_mme_per_mcg_h),
        reference_salt: request.reference_salt.unwrap_or(b.reference_salt),
        salt_base_factor: pick(request.salt_base_factor, b.salt_base_factor),
        notes: request.notes.unwrap_or(b.notes),
        source: request.source,
        recorded_by: Some(recorded_by),
    })
}

/// Adds a substance with its first version of reference values (admin).
#[utoipa::path(tag = "reference data", params(IdempotencyKeyHeader), request_body = SubstanceRequest, responses((status = 201, body = SubstanceEnvelope)))]
#[post("/substances")]
async fn create_substance(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<SubstanceRequest>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    let inn = request.inn.clone().ok_or_else(|| DomainError::field("/inn", "is required"))?.trim().to_lowercase();
    if !inn.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        || !inn.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return Err(DomainError::field("/inn", "use lower-case letters, digits, spaces and '-'").into());
    }
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            if Substance::find_by_inn(conn, &inn)?.is_some() {
                return Err(DomainError::new(ProblemCode::SubstanceExists, format!("{inn} exists; PATCH it to add a version")).into());
            }
            let substance = Substance::create(conn, &inn)?;
            let values = ReferenceValues::insert(conn, &new_version(substance.id, None, request, caller.user_id)?)?;
            let audit = AuditEntry::of(
                AuditAction::CreateSubstance,
                ResourceType::Substance,
                Some(substance.id.to_string()),
                None,
                json!({"inn": inn, "version_id": values.id}),
            );
            Ok(Outcome::done((StatusCode::CREATED, SubstanceEnvelope { substance: SubstanceView::new(substance, Some(values)) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}

/// Records a new version of a substance's reference values (admin). Fields left out keep
/// the values in force on `effective_from`; history is never overwritten.
#[utoipa::path(tag = "reference data", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = SubstanceRequest, responses((status = 200, body = SubstanceEnvelope)))]
#[patch("/substances/{id}")]
async fn update_substance(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<i64>,
    body: JsonBody<SubstanceRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    if request.inn.is_some() {
        return Err(DomainError::field("/inn", "cannot be changed").into());
    }
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let substance = Substance::find(conn, id)?.ok_or_else(|| DomainError::not_found("substance"))?;
            let as_of = request.effective_from.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let base = ReferenceValues::in_force_for(conn, id, as_of)?;
            let values = ReferenceValues::insert(conn, &new_version(id, base, request, caller.user_id)?)?;
            let audit = AuditEntry::of(
                AuditAction::UpdateSubstance,
                ResourceType::Substance,
                Some(id.to_string()),
                None,
                json!({"version_id": values.id, "effective_from": values.effective_from, "source": values.source}),
            );
            Ok(Outcome::done((StatusCode::OK, SubstanceEnvelope { substance: SubstanceView::new(substance, Some(values)) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
