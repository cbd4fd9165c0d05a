//! `user_preferences`: what a person chose for the dashboard (its language).

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::user_preferences;
use crate::domain::ids::UserId;

/// The language a user chose, if it chose one.
pub fn language_of(conn: &mut PgConnection, user_id: UserId) -> QueryResult<Option<String>> {
    user_preferences::table.find(user_id).select(user_preferences::language).first(conn).optional()
}

/// Sets (or replaces) the user's language.
pub fn set_language(conn: &mut PgConnection, user_id: UserId, language: &str) -> QueryResult<()> {
    diesel::insert_into(user_preferences::table)
        .values((user_preferences::user_id.eq(user_id), user_preferences::language.eq(language)))
        .on_conflict(user_preferences::user_id)
        .do_update()
        .set((user_preferences::language.eq(excluded(user_preferences::language)), user_preferences::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .map(drop)
}
