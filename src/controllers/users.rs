//! `GET|POST /users`, `POST /users/{id}/deactivation`, `/activation`, `/password-reset` (admin).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::auth::{Caller, password};
use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::models::facility::Facility;
use crate::db::models::user::{NewUser, User};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::ListMeta;
use crate::views::auth::{NewUserRequest, UserEnvelope, UserList, UserView};
use crate::views::reference::PageQuery;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users).service(create_user).service(deactivate_user).service(activate_user).service(reset_user_password);
}

/// All users (admin only).
#[utoipa::path(tag = "users", params(PageQuery), responses((status = 200, body = UserList)))]
#[get("/users")]
async fn list_users(state: web::Data<AppState>, caller: Caller, query: QueryParams<PageQuery>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let page = Page::new(query.0.page, query.0.per_page)?;
    let (rows, total) = app::run(&state.pool, move |conn| Ok(User::page(conn, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok().json(UserList { users: rows.into_iter().map(UserView::from).collect(), meta: ListMeta::new(total, page) }))
}

fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Creates a user (admin only). Facility roles name their facility; the country is the
/// facility's. Country roles name their country.
#[utoipa::path(tag = "users", params(IdempotencyKeyHeader), request_body = NewUserRequest, responses((status = 201, body = UserEnvelope)))]
#[post("/users")]
async fn create_user(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewUserRequest>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let request = body.value;
    if !valid_username(&request.username) {
        return Err(DomainError::field("/username", "use 3 to 64 characters: lower-case letters, digits, '.', '_', '-'").into());
    }
    let hash = web::block({
        let pw = request.password.clone();
        move || password::hash(&pw)
    })
    .await??;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let country = resolve_scope(conn, &request)?;
            let user = User::create(
                conn,
                &NewUser {
                    username: &request.username,
                    password_hash: &hash,
                    role: request.role,
                    country_code: country.as_deref(),
                    facility_id: request.facility_id,
                },
            )
            .map_err(unique_violation_as(
                DomainError::new(ProblemCode::UsernameTaken, "that username is taken").with_error(FieldError::at("/username", "is taken")),
            ))?;
            let audit = AuditEntry::of(
                AuditAction::CreateUser,
                ResourceType::User,
                Some(user.id.to_string()),
                user.country_code.as_deref(),
                json!({"username": user.username, "role": user.role, "facility_id": user.facility_id}),
            );
            Ok(Outcome::done((StatusCode::CREATED, UserEnvelope { user: UserView::from(user) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}

/// The country a new user is bound to, checking the role's scope rules.
fn resolve_scope(conn: &mut diesel::PgConnection, request: &NewUserRequest) -> AppResult<Option<String>> {
    match request.role {
        Role::Admin | Role::Regional => {
            if request.country_code.is_some() {
                return Err(DomainError::field("/country_code", "must be absent for this role").into());
            }
            if request.facility_id.is_some() {
                return Err(DomainError::field("/facility_id", "must be absent for this role").into());
            }
            Ok(None)
        }
        Role::Regulator | Role::Ministry => {
            if request.facility_id.is_some() {
                return Err(DomainError::field("/facility_id", "must be absent for this role").into());
            }
            let code = request.country_code.clone().ok_or_else(|| DomainError::field("/country_code", "is required for this role"))?;
            if crate::db::models::country::Country::find(conn, &code)?.is_none() {
                return Err(DomainError::field("/country_code", "unknown country").into());
            }
            Ok(Some(code))
        }
        Role::Pharmacy | Role::Wholesaler => {
            let id = request.facility_id.ok_or_else(|| DomainError::field("/facility_id", "is required for this role"))?;
            let facility = Facility::find(conn, id)?.ok_or_else(|| DomainError::field("/facility_id", "unknown facility"))?;
            if facility.kind.reporting_role() != request.role {
                return Err(DomainError::field(
                    "/role",
                    format!("a {} facility reports through the {} role", facility.kind, facility.kind.reporting_role()),
                )
                .into());
            }
            if let Some(code) = &request.country_code
                && code != &facility.country_code
            {
                return Err(DomainError::field("/country_code", "must be the facility's country").into());
            }
            Ok(Some(facility.country_code))
        }
    }
}

/// An optional reason, kept in the audit log.
#[derive(Debug, Default, Deserialize, validator::Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[validate(length(min = 1, max = 1000))]
    pub reason: Option<String>,
}

/// Sets a user's `active` flag (admin only). Not the admin's own account, and not an API
/// key's principal (revoke the key instead). Setting it to what it is changes nothing.
async fn set_user_active(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: i64,
    body: JsonBody<ReasonRequest>,
    active: bool,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    if id == caller.user_id && !active {
        return Err(DomainError::new(ProblemCode::CannotDeactivateSelf, "an admin cannot deactivate its own account").into());
    }
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let reason = body.value.reason;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            let before = User::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("user"))?;
            if User::is_api_key_principal(conn, id)? {
                return Err(DomainError::new(ProblemCode::ApiKeyPrincipal, "this user acts for an API key: revoke the key instead").into());
            }
            if before.active == active {
                return Ok(Outcome::unchanged((StatusCode::OK, UserEnvelope { user: UserView::from(before) })));
            }
            let after = User::set_active(conn, id, active)?;
            let audit = AuditEntry::of(
                if active { AuditAction::ActivateUser } else { AuditAction::DeactivateUser },
                ResourceType::User,
                Some(id.to_string()),
                after.country_code.as_deref(),
                json!({"username": after.username, "active": active, "reason": reason}),
            );
            Ok(Outcome::done((StatusCode::OK, UserEnvelope { user: UserView::from(after) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
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
    path: web::Path<i64>,
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
    path: web::Path<i64>,
    body: JsonBody<ReasonRequest>,
) -> AppResult<HttpResponse> {
    set_user_active(state, req, caller, path.into_inner(), body, true).await
}

#[derive(Debug, Deserialize, validator::Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// A temporary password, 12 to 1024 characters, to hand to the user.
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters"))]
    pub new_password: String,
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
    path: web::Path<i64>,
    body: JsonBody<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let fingerprint = body.fingerprint;
    let new_password = body.value.new_password;
    let hash = web::block(move || password::hash(&new_password)).await??;
    let stored = idempotency::execute(
        &state,
        key,
        caller.actor(),
        fingerprint,
        move |conn, _actor| {
            User::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("user"))?;
            if User::is_api_key_principal(conn, id)? {
                return Err(DomainError::new(ProblemCode::ApiKeyPrincipal, "this user acts for an API key and has no password").into());
            }
            let user = User::set_password(conn, id, &hash, true)?;
            let audit = AuditEntry::of(
                AuditAction::ResetPassword,
                ResourceType::User,
                Some(id.to_string()),
                user.country_code.as_deref(),
                json!({"username": user.username}),
            );
            Ok(Outcome::done((StatusCode::OK, UserEnvelope { user: UserView::from(user) }), audit))
        },
        |reply| reply,
    )
    .await?;
    Ok(stored)
}
