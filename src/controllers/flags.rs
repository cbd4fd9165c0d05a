//! `GET /flags`, `GET|PATCH /flags/{id}`, `POST /flags/{id}/comments`: the one list of
//! availability findings and diversion signals, and its review workflow.
//!
//! Who sees what: the regulator of the country everything; the ministry availability
//! findings in full and diversion flags only as counts; a facility's users the flags about
//! their own facility, without evidence, with official comments only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::AppResult;
use crate::app::flags::{self, comment, review};
use crate::auth::Caller;
use crate::db::enums::RuleMode;
use crate::db::models::flag::FlagFilter;
use crate::domain::ids::{FlagId, UserId};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::flags::{CommentEnvelope, CommentRequest, FlagCount, FlagDetail, FlagEventView, FlagList, FlagPatchRequest, FlagQuery, FlagView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_flags).service(get_flag).service(update_flag).service(create_flag_comment);
}

/// Flags within the caller's scope, most severe first.
#[utoipa::path(tag = "diversion", params(FlagQuery), responses((status = 200, body = FlagList)))]
#[get("/flags")]
async fn list_flags(state: web::Data<AppState>, caller: Caller, query: QueryParams<FlagQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = FlagFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        status: q.status,
        rule_code: q.rule,
        category: q.category,
        region_id: q.region_id,
        facility_id: q.facility_id,
        severity: q.severity,
        mode: Some(q.mode.unwrap_or(RuleMode::Active)),
        from: q.from,
        to: q.to,
        subject_type: q.subject_type,
        subject_id: q.subject_id,
    };
    let actor = caller.actor();
    let listed = app::run(&state.pool, move |conn| flags::list::execute(conn, &actor, filter, page.offset(), page.limit())).await?;
    Ok(HttpResponse::Ok().json(FlagList {
        flags: listed.flags.into_iter().map(|f| FlagView::new(f, listed.with_evidence)).collect(),
        counts: listed.counts.into_iter().map(|(rule, severity, status, count)| FlagCount { rule, severity, status, count }).collect(),
        meta: ListMeta::new(listed.total, page),
    }))
}

/// One flag with its review trail.
#[utoipa::path(tag = "diversion", params(("id" = i64, Path)), responses((status = 200, body = FlagDetail)))]
#[get("/flags/{id}")]
async fn get_flag(state: web::Data<AppState>, caller: Caller, path: web::Path<FlagId>) -> AppResult<HttpResponse> {
    let (id, actor) = (path.into_inner(), caller.actor());
    let read = app::run(&state.pool, move |conn| flags::read::detail(conn, &actor, id)).await?;
    let events = read.events.into_iter().map(FlagEventView::from).collect();
    Ok(HttpResponse::Ok().json(FlagDetail { flag: FlagView::new(read.flag, read.with_evidence), events }))
}

/// Moves a flag through its review (regulator of its country): open → under_review →
/// confirmed or dismissed (with a reason) → reopened; and assigns it to a regulator.
#[utoipa::path(tag = "diversion", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = FlagPatchRequest, responses((status = 200, body = FlagDetail)))]
#[patch("/flags/{id}")]
async fn update_flag(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FlagId>,
    body: JsonBody<FlagPatchRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let input = review::Input::parse(path.into_inner(), r.status, r.note, r.assigned_to.map(|a| a.map(UserId)))?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| review::execute(conn, actor, input),
        |r| {
            let events = r.events.into_iter().map(FlagEventView::from).collect();
            (StatusCode::OK, FlagDetail { flag: FlagView::new(r.flag, true), events })
        },
    )
    .await
}

/// Comments on a flag (regulator of its country): `internal` for regulators, `official`
/// also for the facility the flag is about.
#[utoipa::path(tag = "diversion", params(("id" = i64, Path), IdempotencyKeyHeader), request_body = CommentRequest, responses((status = 201, body = CommentEnvelope)))]
#[post("/flags/{id}/comments")]
async fn create_flag_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<FlagId>,
    body: JsonBody<CommentRequest>,
) -> AppResult<HttpResponse> {
    let flag_id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let input = comment::Input { flag_id, body: body.value.body, visibility: body.value.visibility };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| comment::execute(conn, actor, input),
        |event| (StatusCode::CREATED, CommentEnvelope { comment: event.into() }),
    )
    .await
}
