//! `refused_attempts`: writes refused for reasons that matter to oversight, kept as evidence.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::enums::RefusalCode;
use crate::db::schema::refused_attempts;
use crate::domain::ids::{FacilityId, ProductId, RefusedAttemptId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refused_attempts)]
pub struct RefusedAttempt {
    pub id: RefusedAttemptId,
    pub country_code: String,
    pub facility_id: Option<FacilityId>,
    pub product_id: Option<ProductId>,
    pub code: RefusalCode,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub request_id: Option<String>,
    pub details: Value,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refused_attempts)]
pub struct NewRefusedAttempt<'a> {
    pub country_code: &'a str,
    pub facility_id: Option<FacilityId>,
    pub product_id: Option<ProductId>,
    pub code: RefusalCode,
    pub occurred_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub request_id: Option<&'a str>,
    pub details: Value,
}

/// Rows per insert statement: 8 parameters each, well under PostgreSQL's 65 535.
const INSERT_CHUNK: usize = 2_000;

impl RefusedAttempt {
    /// Inserts one attempt; returns its id.
    pub fn insert(conn: &mut PgConnection, new: &NewRefusedAttempt<'_>) -> QueryResult<i64> {
        diesel::insert_into(refused_attempts::table).values(new).returning(refused_attempts::id).get_result(conn)
    }

    /// Inserts `rows` in statements of at most `INSERT_CHUNK` rows: one statement for a
    /// whole batch would pass PostgreSQL's 65 535 bind parameters (8 per row).
    pub fn insert_many(conn: &mut PgConnection, rows: &[NewRefusedAttempt<'_>]) -> QueryResult<usize> {
        let mut inserted = 0;
        for chunk in rows.chunks(INSERT_CHUNK) {
            inserted += diesel::insert_into(refused_attempts::table).values(chunk).execute(conn)?;
        }
        Ok(inserted)
    }

    pub fn of_facility(conn: &mut PgConnection, facility_id: FacilityId) -> QueryResult<Vec<RefusedAttempt>> {
        refused_attempts::table
            .filter(refused_attempts::facility_id.eq(facility_id))
            .order(refused_attempts::id)
            .select(RefusedAttempt::as_select())
            .load(conn)
    }
}
