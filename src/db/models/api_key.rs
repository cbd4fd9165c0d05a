//! `api_keys`: bearer keys for integrations, each bound to one facility and acting through
//! a principal user row of its own.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::Role;
use crate::db::models::user::User;
use crate::db::schema::{api_keys, users};
use crate::domain::ids::{ApiKeyId, FacilityId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub user_id: UserId,
    pub facility_id: FacilityId,
    pub country_code: String,
    pub prefix: String,
    pub secret_sha256: Vec<u8>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<UserId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub user_id: UserId,
    pub facility_id: FacilityId,
    pub country_code: &'a str,
    pub prefix: &'a str,
    pub secret_sha256: &'a [u8],
    pub created_by: Option<UserId>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Filters of the key listing.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyFilter {
    pub country_code: Option<String>,
    pub facility_id: Option<FacilityId>,
}

/// `last_used_at` is written at most this often per key, so busy integrations cost one
/// read per request, not a write.
pub const LAST_USED_GRANULARITY_SECONDS: i64 = 60;

impl ApiKey {
    pub fn create(conn: &mut PgConnection, new: &NewApiKey<'_>) -> QueryResult<ApiKey> {
        diesel::insert_into(api_keys::table).values(new).returning(ApiKey::as_returning()).get_result(conn)
    }

    pub fn find_for_update(conn: &mut PgConnection, id: ApiKeyId) -> QueryResult<Option<ApiKey>> {
        api_keys::table.find(id).select(ApiKey::as_select()).for_update().first(conn).optional()
    }

    /// The key with this secret hash and its principal.
    pub fn find_by_secret(conn: &mut PgConnection, secret_sha256: &[u8]) -> QueryResult<Option<(ApiKey, User)>> {
        api_keys::table
            .inner_join(users::table.on(users::id.eq(api_keys::user_id)))
            .filter(api_keys::secret_sha256.eq(secret_sha256))
            .select((ApiKey::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Notes a use, unless one was noted in the last minute (a no-op then).
    pub fn touch(conn: &mut PgConnection, id: ApiKeyId) -> QueryResult<()> {
        let stale = Utc::now() - chrono::Duration::seconds(LAST_USED_GRANULARITY_SECONDS);
        diesel::update(api_keys::table.find(id))
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(stale)))
            .set(api_keys::last_used_at.eq(diesel::dsl::now))
            .execute(conn)?;
        Ok(())
    }

    pub fn revoke(conn: &mut PgConnection, id: ApiKeyId, by: UserId) -> QueryResult<ApiKey> {
        diesel::update(api_keys::table.find(id))
            .set((api_keys::revoked_at.eq(diesel::dsl::now), api_keys::revoked_by.eq(by)))
            .returning(ApiKey::as_returning())
            .get_result(conn)
    }

    /// A page of keys, each with the role of its principal.
    pub fn page(conn: &mut PgConnection, filter: &ApiKeyFilter, offset: i64, limit: i64) -> QueryResult<(Vec<(ApiKey, Role)>, i64)> {
        let build = || {
            let mut q = api_keys::table.inner_join(users::table.on(users::id.eq(api_keys::user_id))).into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(api_keys::country_code.eq(c.clone()));
            }
            if let Some(f) = filter.facility_id {
                q = q.filter(api_keys::facility_id.eq(f));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build().order(api_keys::id).offset(offset).limit(limit).select((ApiKey::as_select(), users::role)).load(conn)?;
        Ok((rows, total))
    }

    /// Usable now: neither revoked nor expired.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}
