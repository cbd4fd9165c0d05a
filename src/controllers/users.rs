//! `GET|POST /users` (admin).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Caller, password};
use crate::db;
use crate::db::enums::Role;
use crate::db::models::audit_event::AuditEvent;
use crate::db::models::facility::Facility;
use crate::db::models::user::{NewUser, User};
use crate::error::{AppResult, FieldError, Problem, unique_violation_as};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader, Outcome};
use crate::startup::AppState;
use crate::views::ListMeta;
use crate::views::auth::{NewUserRequest, UserEnvelope, UserList, UserView};
use crate::views::reference::PageQuery;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users).service(create_user);
}

/// All users (admin only).
#[utoipa::path(tag = "users", params(PageQuery), responses((status = 200, body = UserList)))]
#[get("/users")]
async fn list_users(state: web::Data<AppState>, caller: Caller, query: QueryParams<PageQuery>) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let page = Page::new(query.0.page, query.0.per_page)?;
    let (rows, total) = db::run(&state.pool, move |conn| Ok(User::page(conn, page.offset(), page.limit())?)).await?;
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
        return Err(Problem::field("/username", "use 3 to 64 characters: lower-case letters, digits, '.', '_', '-'").into());
    }
    let hash = web::block({
        let pw = request.password.clone();
        move || password::hash(&pw)
    })
    .await??;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::write(conn, caller.user_id, key.as_deref(), fingerprint, |conn| {
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
                Problem::conflict("username_taken", "that username is taken").with_error(FieldError::at("/username", "is taken")),
            ))?;
            AuditEvent::record(
                conn,
                &caller.actor(),
                "create_user",
                "user",
                Some(user.id.to_string()),
                user.country_code.as_deref(),
                json!({"username": user.username, "role": user.role, "facility_id": user.facility_id}),
            )?;
            Ok(Outcome::Done(StatusCode::CREATED, UserEnvelope { user: UserView::from(user) }))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// The country a new user is bound to, checking the role's scope rules.
fn resolve_scope(conn: &mut diesel::PgConnection, request: &NewUserRequest) -> AppResult<Option<String>> {
    match request.role {
        Role::Admin | Role::Regional => {
            if request.country_code.is_some() {
                return Err(Problem::field("/country_code", "must be absent for this role").into());
            }
            if request.facility_id.is_some() {
                return Err(Problem::field("/facility_id", "must be absent for this role").into());
            }
            Ok(None)
        }
        Role::Regulator | Role::Ministry => {
            if request.facility_id.is_some() {
                return Err(Problem::field("/facility_id", "must be absent for this role").into());
            }
            let code = request.country_code.clone().ok_or_else(|| Problem::field("/country_code", "is required for this role"))?;
            if crate::db::models::country::Country::find(conn, &code)?.is_none() {
                return Err(Problem::field("/country_code", "unknown country").into());
            }
            Ok(Some(code))
        }
        Role::Pharmacy | Role::Wholesaler => {
            let id = request.facility_id.ok_or_else(|| Problem::field("/facility_id", "is required for this role"))?;
            let facility = Facility::find(conn, id)?.ok_or_else(|| Problem::field("/facility_id", "unknown facility"))?;
            if facility.kind.reporting_role() != request.role {
                return Err(Problem::field(
                    "/role",
                    format!("a {} facility reports through the {} role", facility.kind, facility.kind.reporting_role()),
                )
                .into());
            }
            if let Some(code) = &request.country_code
                && code != &facility.country_code
            {
                return Err(Problem::field("/country_code", "must be the facility's country").into());
            }
            Ok(Some(facility.country_code))
        }
    }
}
