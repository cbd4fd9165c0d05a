//! `idempotency_keys`: the stored response of each keyed write, per user.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::domain::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyKey {
    pub user_id: UserId,
    pub key: String,
    pub request_fingerprint: Vec<u8>,
    pub response_status: i16,
    pub response_body: Vec<u8>,
}

impl IdempotencyKey {
    /// Serialises writers of the same key until the transaction ends, then returns the
    /// stored entry if a previous request completed since `not_before`; an older entry is
    /// expired: it is removed and the key is free again.
    pub fn lock_and_find(conn: &mut PgConnection, user_id: UserId, key: &str, not_before: DateTime<Utc>) -> QueryResult<Option<IdempotencyKey>> {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>((user_id.get() % i64::from(i32::MAX)) as i32)
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(conn)?;
        diesel::delete(idempotency_keys::table.find((user_id, key)).filter(idempotency_keys::created_at.lt(not_before))).execute(conn)?;
        idempotency_keys::table.find((user_id, key)).select(IdempotencyKey::as_select()).first(conn).optional()
    }

    /// Removes every entry stored before `not_before`; returns how many.
    pub fn purge_older_than(conn: &mut PgConnection, not_before: DateTime<Utc>) -> QueryResult<usize> {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(not_before))).execute(conn)
    }

    pub fn store(conn: &mut PgConnection, entry: &IdempotencyKey) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table).values(entry).execute(conn)?;
        Ok(())
    }
}
