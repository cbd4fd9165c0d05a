//! `users`: people and systems that call the API, each with one role and scope.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::Role;
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub country_code: Option<String>,
    pub facility_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub country_code: Option<&'a str>,
    pub facility_id: Option<i64>,
}

impl User {
    pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<User>> {
        users::table.find(id).select(User::as_select()).first(conn).optional()
    }

    pub fn find_by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<User>> {
        users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).optional()
    }

    pub fn create(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table).values(new).returning(User::as_returning()).get_result(conn)
    }

    pub fn page(conn: &mut PgConnection, offset: i64, limit: i64) -> QueryResult<(Vec<User>, i64)> {
        let total = users::table.count().get_result(conn)?;
        let rows = users::table.order(users::id).offset(offset).limit(limit).select(User::as_select()).load(conn)?;
        Ok((rows, total))
    }

    pub fn any_admin(conn: &mut PgConnection) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(users::table.filter(users::role.eq(Role::Admin)))).get_result(conn)
    }
}
