//! `Caller`: the authenticated user of a request, admitted by the policy for the route's
//! operation (`app::policy::POLICY`), and the scope checks every handler uses.
//!
//! The bearer credential is a JWT or, when it starts with `tz_`, an API key. A token's
//! claims are re-checked against the user row on every request, so a deactivated user, a
//! changed role or a password change or reset takes effect at once; a user whose password
//! was reset reaches only `/auth/me` and `/auth/password` until it changes it. A key acts as
//! its principal, a reporting user of its one facility, while neither revoked nor expired.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::app::error::{AppError, AppResult, DomainError, ProblemCode};
use crate::app::policy;
use crate::db::enums::Role;
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::user::User;
use crate::domain::ids::{ApiKeyId, FacilityId, UserId};
use crate::observability::RequestId;
use crate::operations::PathTable;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub country_code: Option<String>,
    pub facility_id: Option<FacilityId>,
    pub request_id: Option<String>,
    /// Set when the request came with an API key (`user_id` is then the key's principal).
    pub api_key_id: Option<ApiKeyId>,
}

impl Caller {
    /// Who to name in the audit log.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            role: Some(self.role),
            country_code: self.country_code.clone(),
            request_id: self.request_id.clone(),
            api_key_id: self.api_key_id,
            facility_id: self.facility_id,
        }
    }

    /// `app::policy::check_country` for the caller.
    pub fn check_country(&self, country: &str) -> AppResult<()> {
        Ok(policy::check_country(&self.actor(), country)?)
    }

    /// `app::policy::check_facility` for the caller.
    pub fn check_facility(&self, facility: &Facility) -> AppResult<()> {
        Ok(policy::check_facility(&self.actor(), facility)?)
    }

    /// `app::policy::check_reports_for` for the caller.
    pub fn check_reports_for(&self, facility: &Facility) -> AppResult<()> {
        Ok(policy::check_reports_for(&self.actor(), facility.id)?)
    }

    /// `app::policy::country_scope` for the caller.
    pub fn country_scope(&self, requested: Option<&str>) -> AppResult<Option<String>> {
        Ok(policy::country_scope(&self.actor(), requested)?)
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// The paths a user who must change its password may still call.
const PASSWORD_CHANGE_PATHS: [&str; 2] = ["/api/v1/auth/me", "/api/v1/auth/password"];

fn invalid_token(detail: &str) -> AppError {
    DomainError::new(ProblemCode::InvalidToken, detail.to_owned()).into()
}

/// The caller named by a JWT, if the user row still matches it.
async fn from_token(state: &AppState, token: &str, path: &str) -> AppResult<(User, Option<ApiKeyId>)> {
    let claims = state.tokens.verify(token).map_err(|_| invalid_token("the token is invalid or expired"))?;
    let user_id: UserId = claims.sub.parse().map_err(|_| invalid_token("the token is invalid or expired"))?;
    let user = crate::app::run(&state.pool, move |conn| Ok(User::find(conn, user_id)?)).await?;
    let current = match user {
        // A password change or reset ends the tokens issued before it (`iat` has whole seconds).
        Some(u)
            if u.active
                && u.role == claims.role
                && u.country_code == claims.country
                && u.facility_id == claims.facility
                && u.password_changed_at.is_none_or(|t| claims.iat >= t.timestamp()) =>
        {
            u
        }
        _ => return Err(invalid_token("the token no longer matches an active user")),
    };
    if current.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&path) {
        return Err(
            DomainError::new(ProblemCode::PasswordChangeRequired, "the password was reset: change it with POST /api/v1/auth/password first").into()
        );
    }
    Ok((current, None))
}

/// The principal of a usable API key.
async fn from_api_key(state: &AppState, key: &str) -> AppResult<(User, Option<ApiKeyId>)> {
    use crate::db::models::api_key::ApiKey;
    let hash = crate::auth::api_key::hash(key);
    let found = crate::app::run(&state.pool, move |conn| {
        let found = ApiKey::find_by_secret(conn, &hash)?;
        if let Some((key, _)) = &found
            && key.usable_at(chrono::Utc::now())
            && key.last_used_at.is_none_or(|t| (chrono::Utc::now() - t).num_seconds() >= crate::db::models::api_key::LAST_USED_GRANULARITY_SECONDS)
        {
            ApiKey::touch(conn, key.id)?;
        }
        Ok(found)
    })
    .await?;
    match found {
        Some((key, principal)) if key.usable_at(chrono::Utc::now()) && principal.active => Ok((principal, Some(key.id))),
        _ => Err(invalid_token("the API key is unknown, revoked or expired")),
    }
}

/// The operation the request's matched route is, if the document knows it.
fn operation_of(req: &HttpRequest) -> Option<String> {
    let table = req.app_data::<web::Data<PathTable>>()?;
    let template = req.match_pattern()?;
    table.operation(req.method().as_str(), &template).map(str::to_owned)
}

/// 401/403 unless the request's caller may call its operation; `Ok` for public operations.
/// Body and query extractors call it before reporting their own errors, so a caller without
/// the permission learns nothing about the validity of what it sent.
pub async fn authorize(req: &HttpRequest) -> AppResult<()> {
    match operation_of(req).and_then(|op| policy::access_of(&op)) {
        Some(policy::Access::Public) => Ok(()),
        _ => Caller::extract(req).await.map(drop),
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticated once per request: the body extractor may have asked first.
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(async move { Ok(caller) });
        }
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token = bearer_token(&req).ok_or_else(|| DomainError::new(ProblemCode::Unauthenticated, "a bearer token is required"))?;
            let (current, api_key_id) = if crate::auth::api_key::looks_like_key(&token) {
                from_api_key(&state, &token).await?
            } else {
                from_token(&state, &token, req.path()).await?
            };
            let operation = operation_of(&req).unwrap_or_default();
            policy::admit(current.role, &operation)?;
            let caller = Caller {
                user_id: current.id,
                username: current.username,
                role: current.role,
                country_code: current.country_code,
                facility_id: current.facility_id,
                request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
                api_key_id,
            };
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}
