//! `Caller`: the authenticated user of a request, and the scope checks every handler uses.
//!
//! The token's claims are re-checked against the user row on every request, so a
//! deactivated user or a changed role takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::db::enums::Role;
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::user::User;
use crate::error::{AppError, AppResult, Problem};
use crate::observability::RequestId;
use crate::startup::AppState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub country_code: Option<String>,
    pub facility_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Caller {
    /// Who to name in the audit log.
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user_id), role: Some(self.role), country_code: self.country_code.clone(), request_id: self.request_id.clone() }
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) { Ok(()) } else { Err(Problem::forbidden(format!("the {} role may not do this", self.role)).into()) }
    }

    /// 403 unless the caller may see country-level data of `country`: admin everywhere,
    /// everyone else (but `regional`) only in their own country.
    pub fn check_country(&self, country: &str) -> AppResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Regional => Err(Problem::forbidden("the regional role reads cross-border aggregates only").into()),
            _ if self.country_code.as_deref() == Some(country) => Ok(()),
            _ => Err(Problem::forbidden(format!("no access to data of country {country}")).into()),
        }
    }

    /// 403 unless the caller may see `facility`: its own users, the regulator and ministry
    /// of its country, and admin.
    pub fn check_facility(&self, facility: &Facility) -> AppResult<()> {
        if self.role.is_facility_role() {
            return if self.facility_id == Some(facility.id) {
                Ok(())
            } else {
                Err(Problem::forbidden("a facility user reaches only its own facility").into())
            };
        }
        self.check_country(&facility.country_code)
    }

    /// 403 unless the caller reports for `facility` (its own pharmacy or wholesaler user).
    pub fn check_reports_for(&self, facility: &Facility) -> AppResult<()> {
        if self.role.is_facility_role() && self.facility_id == Some(facility.id) {
            Ok(())
        } else {
            Err(Problem::forbidden("only the facility's own users report for it").into())
        }
    }

    /// The country a country-scoped listing shows: the caller's own; admin must name one
    /// or sees all (`None`).
    pub fn country_scope(&self, requested: Option<&str>) -> AppResult<Option<String>> {
        // Country codes are stored upper-case; `kz` asks for KZ.
        let requested = requested.map(str::to_ascii_uppercase);
        let requested = requested.as_deref();
        match (self.role, requested) {
            (Role::Admin, r) => Ok(r.map(str::to_owned)),
            (Role::Regional, _) => Err(Problem::forbidden("the regional role reads cross-border aggregates only").into()),
            (_, Some(r)) => {
                self.check_country(r)?;
                Ok(Some(r.to_owned()))
            }
            (_, None) => Ok(self.country_code.clone()),
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing")))?;
            let token = token.ok_or_else(|| Problem::unauthorized("unauthenticated", "a bearer token is required"))?;
            let claims = state.tokens.verify(&token).map_err(|_| Problem::unauthorized("invalid_token", "the token is invalid or expired"))?;
            let user_id: i64 = claims.sub.parse().map_err(|_| Problem::unauthorized("invalid_token", "the token is invalid or expired"))?;
            let user = crate::db::run(&state.pool, move |conn| Ok(User::find(conn, user_id)?)).await?;
            let current = match user {
                Some(u) if u.active && u.role == claims.role && u.country_code == claims.country && u.facility_id == claims.facility => u,
                _ => {
                    return Err(Problem::unauthorized("invalid_token", "the token no longer matches an active user").into());
                }
            };
            Ok(Caller {
                user_id: current.id,
                username: current.username,
                role: current.role,
                country_code: current.country_code,
                facility_id: current.facility_id,
                request_id,
            })
        })
    }
}
