//! `audit_events`: the append-only record of every write (who, when, what, request id).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::{AuditAction, ResourceType, Role};
use crate::db::schema::audit_events;
use crate::domain::ids::{ApiKeyId, AuditEventId, FacilityId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    pub country_code: Option<String>,
    pub action: AuditAction,
    pub resource_type: ResourceType,
    pub resource_id: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
    /// The API key the write came through, if any (`user_id` is then the key's principal).
    pub api_key_id: Option<ApiKeyId>,
}

/// Who did it: the authenticated caller, or the system itself.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    pub country_code: Option<String>,
    pub request_id: Option<String>,
    pub api_key_id: Option<ApiKeyId>,
    /// The facility a facility-role user (or API key) acts for.
    pub facility_id: Option<FacilityId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    user_id: Option<UserId>,
    role: Option<Role>,
    country_code: Option<&'a str>,
    action: AuditAction,
    resource_type: ResourceType,
    resource_id: Option<String>,
    request_id: Option<&'a str>,
    details: Value,
    api_key_id: Option<ApiKeyId>,
}

/// Filters of the audit-log listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub country_code: Option<String>,
    pub user_id: Option<UserId>,
    pub resource_type: Option<ResourceType>,
    pub resource_id: Option<String>,
    pub action: Option<AuditAction>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditEvent {
    /// Appends one entry. `country_code` is the country the write concerns.
    pub fn record(
        conn: &mut PgConnection,
        actor: &Actor,
        action: AuditAction,
        resource_type: ResourceType,
        resource_id: Option<String>,
        country_code: Option<&str>,
        details: Value,
    ) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(NewAuditEvent {
                user_id: actor.user_id,
                role: actor.role,
                country_code: country_code.or(actor.country_code.as_deref()),
                action,
                resource_type,
                resource_id,
                request_id: actor.request_id.as_deref(),
                details,
                api_key_id: actor.api_key_id,
            })
            .execute(conn)?;
        Ok(())
    }

    pub fn page(conn: &mut PgConnection, filter: &AuditFilter, offset: i64, limit: i64) -> QueryResult<(Vec<AuditEvent>, i64)> {
        let build = || {
            let mut q = audit_events::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(audit_events::country_code.eq(c.clone()));
            }
            if let Some(u) = filter.user_id {
                q = q.filter(audit_events::user_id.eq(u));
            }
            if let Some(t) = &filter.resource_type {
                q = q.filter(audit_events::resource_type.eq(*t));
            }
            if let Some(id) = &filter.resource_id {
                q = q.filter(audit_events::resource_id.eq(id.clone()));
            }
            if let Some(a) = &filter.action {
                q = q.filter(audit_events::action.eq(*a));
            }
            if let Some(from) = filter.from {
                q = q.filter(audit_events::occurred_at.ge(from));
            }
            if let Some(to) = filter.to {
                q = q.filter(audit_events::occurred_at.lt(to));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(audit_events::id.desc()).offset(offset).limit(limit).select(AuditEvent::as_select()).load(conn)?;
        Ok((rows, total))
    }
}
