//! `GET|POST /api-keys`, `POST /api-keys/{id}/revocation`: bearer keys for integrations.
//!
//! A key is issued by an admin or by the regulator of the facility's country, for one
//! facility; it acts with exactly the scope of that facility's reporting users (pharmacy or
//! wholesaler by the facility's kind) through a principal user row of its own, which exists
//! only for the key, has no usable password and is not listed under `/users`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::app;
use crate::app::accounts::{self, issue_api_key};
use crate::app::error::AppResult;
use crate::auth::{Caller, api_key};
use crate::db::enums::Role;
use crate::db::models::api_key::{ApiKey, ApiKeyFilter};
use crate::domain::ids::{ApiKeyId, FacilityId, UserId};
use crate::extract::{JsonBody, Page, QueryParams};
use crate::idempotency::{self, IdempotencyKeyHeader};
use crate::state::AppState;
use crate::views::{ListMeta, envelope, list_page};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_api_keys).service(create_api_key).service(revoke_api_key);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyRequest {
    /// What the key is for, e.g. the integration's name.
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    /// The one facility the key reports for.
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    /// When the key stops working; in the future. Absent: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(value_type = i64)]
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters (`tz_` and 8 hex digits), to recognise it.
    pub prefix: String,
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    pub country_code: String,
    /// The facility's reporting role the key acts with.
    pub role: Role,
    /// The key's own principal: the `user_id` of its writes in the audit log and elsewhere.
    #[schema(value_type = i64)]
    pub user_id: UserId,
    #[schema(value_type = Option<i64>)]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// To the minute: uses within a minute of the last noted one are not written.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<i64>)]
    pub revoked_by: Option<UserId>,
    /// Neither revoked nor expired.
    pub usable: bool,
}

impl ApiKeyView {
    fn new(key: ApiKey, role: Role) -> Self {
        let usable = key.usable_at(Utc::now());
        ApiKeyView {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            facility_id: key.facility_id,
            country_code: key.country_code,
            role,
            user_id: key.user_id,
            created_by: key.created_by,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            revoked_by: key.revoked_by,
            usable,
        }
    }
}

envelope!(ApiKeyEnvelope, api_key, ApiKeyView);
list_page!(ApiKeyList, api_keys, ApiKeyView);

/// The answer to issuing a key: the key and, this once, its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedApiKey {
    pub api_key: ApiKeyView,
    /// The key to send as `Authorization: Bearer tz_...`. Shown only in this answer (not
    /// in an idempotent replay): it is stored as a hash and cannot be shown again.
    pub secret: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyQuery {
    /// Admin only: one country (regulators see their own).
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    /// Why, for the audit log.
    #[validate(length(min = 1, max = 1000))]
    pub reason: Option<String>,
}

/// Keys the caller may manage (admin all, the regulator its country's), without secrets.
#[utoipa::path(
    tag = "users",
    params(ApiKeyQuery),
    responses(
        (status = 200, body = ApiKeyList),
        (status = 403, description = "not an admin or regulator, or another country", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys")]
async fn list_api_keys(state: web::Data<AppState>, caller: Caller, query: QueryParams<ApiKeyQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = ApiKeyFilter { country_code: caller.country_scope(q.country.as_deref())?, facility_id: q.facility_id };
    let (rows, total) = app::run(&state.pool, move |conn| Ok(ApiKey::page(conn, &filter, page.offset(), page.limit())?)).await?;
    Ok(HttpResponse::Ok()
        .json(ApiKeyList { api_keys: rows.into_iter().map(|(k, role)| ApiKeyView::new(k, role)).collect(), meta: ListMeta::new(total, page) }))
}

/// Issues a key for one facility (admin, or the regulator of the facility's country).
///
/// The answer carries the secret once; only its SHA-256 is stored. The key acts with the
/// facility's reporting role and scope until it expires or is revoked.
#[utoipa::path(
    tag = "users",
    params(IdempotencyKeyHeader),
    request_body = NewApiKeyRequest,
    responses(
        (status = 201, body = IssuedApiKey),
        (status = 403, description = "not an admin or regulator, or another country's facility", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys")]
async fn create_api_key(state: web::Data<AppState>, req: HttpRequest, caller: Caller, body: JsonBody<NewApiKeyRequest>) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let r = &body.value;
    let generated = api_key::generate();
    let input = issue_api_key::Input::parse(&r.name, r.facility_id, r.expires_at, generated.prefix.clone(), generated.sha256)?;
    let stored = idempotency::execute_reply(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| issue_api_key::execute(conn, actor, input),
        // Stored for replay without the secret, which is added below for this answer only.
        |k| (StatusCode::CREATED, ApiKeyEnvelope { api_key: ApiKeyView::new(k.key, k.role) }),
    )
    .await?;
    if stored.replayed || stored.status != StatusCode::CREATED.as_u16() {
        return Ok(idempotency::into_response(stored));
    }
    let mut answer: serde_json::Value = serde_json::from_slice(&stored.body).map_err(anyhow::Error::from)?;
    answer["secret"] = json!(generated.secret);
    Ok(HttpResponse::Created().json(answer))
}

/// Revokes a key (admin, or the regulator of its country): it answers 401 from now on.
/// Revoking a revoked key changes nothing.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path), IdempotencyKeyHeader),
    request_body(content = RevocationRequest, description = "optional; the body may be empty"),
    responses(
        (status = 200, body = ApiKeyEnvelope),
        (status = 403, description = "not an admin or regulator, or another country's key", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "no such key", body = crate::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys/{id}/revocation")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<ApiKeyId>,
    body: JsonBody<RevocationRequest>,
) -> AppResult<HttpResponse> {
    let api_key_id = path.into_inner();
    let key = idempotency::key_of(&req)?;
    let input = accounts::revoke_api_key::Input { api_key_id, reason: body.value.reason };
    idempotency::execute(
        &state,
        key,
        caller.actor(),
        body.fingerprint,
        move |conn, actor| accounts::revoke_api_key::execute(conn, actor, input),
        |k| (StatusCode::OK, ApiKeyEnvelope { api_key: ApiKeyView::new(k.key, k.role) }),
    )
    .await
}
