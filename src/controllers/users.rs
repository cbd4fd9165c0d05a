//! `GET|POST /users`, `POST /users/{id}/deactivation`, `/activation`, `/password-reset` (admin).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::accounts::{self, reset_password, set_user_active};
use crate::app::error::AppResult;
use crate::auth::{Caller, password};
use crate::db::models::user::User;
use crate::domain::ids::UserId;
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::auth::{NewUserRequest, PasswordResetRequest, ReasonRequest, UserEnvelope, UserList, UserView};
use crate::views::reference::PageQuery;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users).service(create_user).service(deactivate_user).service(activate_user).service(reset_user_password);
}

/// All users (admin only).
#[utoipa::path(tag = "users", params(PageQuery), responses((status = 200, body = UserList)))]
#[get("/users")]
async fn list_users(state: web::Data<AppState>, _caller: Caller, query: QueryParams<PageQuery>) -> AppResult<HttpResponse> {
    let page = Page::new(query.0.page, query.0.per_page)?;
    let (rows, total) = app::run(&state.pool, move |conn| Ok(User::page(conn, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(UserList { users: rows.into_iter().map(UserView::from).collect(), meta: ListMeta::new(total, page) }))
}

/// Creates a user (admin only). Facility roles name their facility; the country is the
/// facility's. Country roles name their country.
#[utoipa::path(tag = "users", params(IdempotencyKeyHeader), request_body = NewUserRequest, responses((status = 201, body = UserEnvelope)))]
#[post("/users")]
async fn create_user(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewUserRequest>) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let r = body.value;
    accounts::create_user::check_username(&r.username)?;
    let hash = web::block(move || password::hash(&r.password)).await??;
    let input = accounts::create_user::Input {
        username: r.username,
        password_hash: hash,
        role: r.role,
        country_code: r.country_code,
        facility_id: r.facility_id,
    };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| accounts::create_user::execute(conn, actor, input),
        |user| (StatusCode::CREATED, UserEnvelope { user: UserView::from(user) }),
    )
    .await
}

/// Sets a user's `active` flag (admin only). Not the admin's own account, and not an API
/// key's principal (revoke the key instead). Setting it to what it is changes nothing.
async fn set_user_active(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: UserId,
    body: JsonBody<ReasonRequest>,
    active: bool,
) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    let input = set_user_active::Input::parse(&actor, id, active, body.value.reason)?;
    idempotency::execute(
        &state,
        idempotency::key_of(&req)?,
        actor,
        body.fingerprint,
        move |conn, actor| set_user_active::execute(conn, actor, input),
        |user| (StatusCode::OK, UserEnvelope { user: UserView::from(user) }),
    )
    .await
}

/// Deactivates a user (admin only): its tokens stop working at once and it cannot log in.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body(content = ReasonRequest, description = "optional; the body may be empty"),
    responses(
        (status = 200, body = UserEnvelope),
        (status = 403, description = "not an admin", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "no such user", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "the admin's own account (`cannot_deactivate_self`) or an API key's principal (`api_key_principal`)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/deactivation")]
async fn deactivate_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<UserId>,
    body: JsonBody<ReasonRequest>,
) -> AppResult<HttpResponse> {
    set_user_active(state, req, caller, path.into_inner(), body, false).await
}

/// Activates a deactivated user again (admin only).
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body(content = ReasonRequest, description = "optional; the body may be empty"),
    responses(
        (status = 200, body = UserEnvelope),
        (status = 403, description = "not an admin", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "no such user", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "an API key's principal (`api_key_principal`)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/activation")]
async fn activate_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<UserId>,
    body: JsonBody<ReasonRequest>,
) -> AppResult<HttpResponse> {
    set_user_active(state, req, caller, path.into_inner(), body, true).await
}

/// Sets a temporary password for a user (admin only) and forces a change at next login.
///
/// Every token issued before stops working. The user's login then answers
/// `password_change_required: true`, and its token reaches only `GET /auth/me` and
/// `POST /auth/password` (403 `password_change_required` elsewhere) until it changes the
/// password.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body = PasswordResetRequest,
    responses(
        (status = 200, body = UserEnvelope),
        (status = 403, description = "not an admin", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "no such user", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "an API key's principal (`api_key_principal`)", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/password-reset")]
async fn reset_user_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<UserId>,
    body: JsonBody<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    let user_id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let new_password = body.value.new_password;
    let hash = web::block(move || password::hash(&new_password)).await??;
    let input = reset_password::Input { user_id, password_hash: hash };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| reset_password::execute(conn, actor, input),
        |user| (StatusCode::OK, UserEnvelope { user: UserView::from(user) }),
    )
    .await
}
