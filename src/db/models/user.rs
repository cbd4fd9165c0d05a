//! `users`: people and systems that call the API, each with one role and scope.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::Role;
use crate::db::schema::{api_keys, users};
use crate::domain::ids::{FacilityId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub country_code: Option<String>,
    pub facility_id: Option<FacilityId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Set by an admin's password reset: until the user changes it, its tokens reach only
    /// `/auth/me` and `/auth/password`.
    pub must_change_password: bool,
    /// Tokens issued before this moment are refused (`None`: not changed since creation).
    pub password_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub country_code: Option<&'a str>,
    pub facility_id: Option<FacilityId>,
}

impl User {
    pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table.find(id).select(User::as_select()).first(conn).optional()
    }

    pub fn find_by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<User>> {
        users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table).values(new).returning(User::as_returning()).get_result(conn)
    }

    pub fn find_for_update(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table.find(id).select(User::as_select()).for_update().first(conn).optional()
    }

    /// People only: the principals of API keys are listed as keys (`GET /api-keys`).
    pub fn page(conn: &mut PgConnection, offset: i64, limit: i64) -> QueryResult<(Vec<User>, i64)> {
        let people = || users::table.filter(diesel::dsl::not(diesel::dsl::exists(api_keys::table.filter(api_keys::user_id.eq(users::id)))));
        let total = people().count().get_result(conn)?;
        let rows = people().order(users::id).offset(offset).limit(limit).select(User::as_select()).load(conn)?;
        Ok((rows, total))
    }

    /// Whether the user row is the principal of an API key.
    pub fn is_api_key_principal(conn: &mut PgConnection, id: UserId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(api_keys::table.filter(api_keys::user_id.eq(id)))).get_result(conn)
    }

    pub fn set_active(conn: &mut PgConnection, id: UserId, active: bool) -> QueryResult<User> {
        diesel::update(users::table.find(id)).set(users::active.eq(active)).returning(User::as_returning()).get_result(conn)
    }

    /// Stores a new password hash; every token issued before now stops working. The time is
    /// the application's, the clock tokens are issued by, not the database's.
    pub fn set_password(conn: &mut PgConnection, id: UserId, password_hash: &str, must_change: bool) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set((users::password_hash.eq(password_hash), users::must_change_password.eq(must_change), users::password_changed_at.eq(Utc::now())))
            .returning(User::as_returning())
            .get_result(conn)
    }

    pub fn any_admin(conn: &mut PgConnection) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(users::table.filter(users::role.eq(Role::Admin)))).get_result(conn)
    }
}
