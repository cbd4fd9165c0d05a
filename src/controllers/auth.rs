//! `POST /auth/login`, `GET /auth/me`, `POST /auth/password`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app;
use crate::app::accounts;
use crate::app::error::{AppResult, DomainError, ProblemCode};
use crate::auth::jwt::{AUDIENCE, Claims, ISSUER};
use crate::auth::{Caller, password};
use crate::db::models::user::User;
use crate::extract::JsonBody;
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::auth::{LoginRequest, PasswordChangeRequest, TokenResponse, UserEnvelope, UserView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(me).service(change_password);
}

/// 429 `too_many_attempts` with the seconds to wait.
pub(crate) fn too_many_attempts(wait: u64) -> DomainError {
    DomainError::new(ProblemCode::TooManyAttempts, "too many failed attempts; wait and retry").with("retry_after_seconds", wait).retry_after(wait)
}

/// Exchanges a username and password for a short-lived bearer token.
///
/// Wrong credentials answer 401 in the same time whether or not the user exists. Failures
/// slow down the (username, client address) pair with exponential back-off, and looser
/// per-username and per-address ceilings slow down everyone else but the pair that last
/// logged in successfully: 429 `too_many_attempts` with `Retry-After` (see the README).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong credentials", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "too many failed logins", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<LoginRequest>) -> AppResult<HttpResponse> {
    let LoginRequest { username, password: given } = body.value;
    let username = username.trim().to_lowercase();
    let address = state.settings.trusted_proxies.client_of(&req);
    if let Some(wait) = state.login_limiter.check(&username, address) {
        return Err(too_many_attempts(wait).into());
    }
    let lookup = username.clone();
    let user = app::run(&state.pool, move |conn| Ok(User::find_by_username(conn, &lookup)?)).await?;
    let stored = user.as_ref().filter(|u| u.active).map(|u| u.password_hash.clone());
    let ok = web::block(move || password::verify(&given, stored.as_deref())).await?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            state.login_limiter.record_failure(&username, address);
            tracing::info!(username = %username, %address, "login refused");
            return Err(DomainError::new(ProblemCode::InvalidCredentials, "wrong username or password").into());
        }
    };
    state.login_limiter.record_success(&username, address);
    let now = chrono::Utc::now().timestamp();
    let ttl = state.settings.token_ttl_seconds;
    let claims = Claims {
        sub: user.id.to_string(),
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: now,
        exp: now + ttl,
        role: user.role,
        country: user.country_code.clone(),
        facility: user.facility_id,
    };
    let token = state.tokens.issue(&claims)?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: ttl,
        password_change_required: user.must_change_password,
    }))
}

/// The caller's own user record.
#[utoipa::path(tag = "auth", responses((status = 200, body = UserEnvelope)))]
#[get("/auth/me")]
async fn me(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let id = caller.user_id;
    let user = app::run(&state.pool, move |conn| Ok(User::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user: UserView::from(user) }))
}

/// Changes the caller's own password; the current one is required.
///
/// Every token issued before the change stops working (log in again with the new
/// password), and a reset's `password_change_required` ends. Wrong current passwords count
/// towards the login throttling of the (username, client address) pair. API keys have no
/// password (403).
#[utoipa::path(
    tag = "auth",
    params(IdempotencyKeyHeader),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, body = UserEnvelope),
        (status = 403, description = "wrong current password (`wrong_password`) or an API key", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "too many wrong passwords", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password")]
async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<PasswordChangeRequest>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    accounts::change_password::admit(&actor)?;
    let key = idempotency::key_of(&req)?;
    let PasswordChangeRequest { current_password, new_password } = body.value;
    accounts::change_password::check_new_password(&current_password, &new_password)?;
    let address = state.settings.trusted_proxies.client_of(&req);
    if let Some(wait) = state.login_limiter.check(&caller.username, address) {
        return Err(too_many_attempts(wait).into());
    }
    let id = caller.user_id;
    let user = app::run(&state.pool, move |conn| Ok(User::find(conn, id)?)).await?.ok_or_else(|| DomainError::not_found("user"))?;
    let stored = user.password_hash.clone();
    let (ok, hash) = web::block(move || {
        if password::verify(&current_password, Some(&stored)) { password::hash(&new_password).map(|h| (true, Some(h))) } else { Ok((false, None)) }
    })
    .await??;
    let Some(password_hash) = hash.filter(|_| ok) else {
        state.login_limiter.record_failure(&caller.username, address);
        return Err(DomainError::new(ProblemCode::WrongPassword, "the current password is wrong").into());
    };
    let input = accounts::change_password::Input { password_hash };
    idempotency::execute(
        &state,
        key,
        actor,
        body.fingerprint,
        move |conn, actor| accounts::change_password::execute(conn, actor, input),
        |user| (StatusCode::OK, UserEnvelope { user: UserView::from(user) }),
    )
    .await
}
