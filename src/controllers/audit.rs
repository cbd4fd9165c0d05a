//! `GET /audit-events`: the append-only audit log (regulator of the country, admin).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::app;
use crate::app::error::AppResult;
use crate::auth::Caller;
use crate::db::enums::Role;
use crate::db::models::audit_event::{AuditEvent, AuditFilter};
use crate::domain::ids::{ApiKeyId, AuditEventId, UserId};
use crate::extract::{Page, QueryParams};
use crate::state::AppState;
use crate::views::{ListMeta, list_page};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Admin only: the country (regulators see their own).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub user_id: Option<UserId>,
    pub resource_type: Option<crate::db::enums::ResourceType>,
    pub resource_id: Option<String>,
    pub action: Option<crate::db::enums::AuditAction>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventView {
    #[schema(value_type = i64)]
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Option<i64>)]
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    pub country_code: Option<String>,
    pub action: crate::db::enums::AuditAction,
    pub resource_type: crate::db::enums::ResourceType,
    pub resource_id: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The API key the write came through (`user_id` is then the key's own principal).
    #[schema(value_type = Option<i64>)]
    pub api_key_id: Option<ApiKeyId>,
}

list_page!(AuditEventList, audit_events, AuditEventView);

/// Audit entries, newest first.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = AuditEventList)))]
#[get("/audit-events")]
async fn list_audit_events(state: web::Data<AppState>, caller: Caller, query: QueryParams<AuditQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let page = Page::new(q.page, q.per_page)?;
    let filter = AuditFilter {
        country_code: caller.country_scope(q.country.as_deref())?,
        user_id: q.user_id,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        action: q.action,
        from: q.from,
        to: q.to,
    };
    let (rows, total) = app::run(&state.pool, move |conn| Ok(AuditEvent::page(conn, &filter, page.offset(), page.limit())?)).await?;
    let audit_events = rows
        .into_iter()
        .map(|e| AuditEventView {
            id: e.id,
            occurred_at: e.occurred_at,
            user_id: e.user_id,
            role: e.role,
            country_code: e.country_code,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            request_id: e.request_id,
            details: e.details,
            api_key_id: e.api_key_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditEventList { audit_events, meta: ListMeta::new(total, page) }))
}
