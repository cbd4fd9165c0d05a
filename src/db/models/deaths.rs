//! `deaths_by_cause`: a country's deaths per year by cause, with their source (the input of
//! the morbidity-based estimate).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::deaths_by_cause as d;
use crate::domain::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct DeathsByCause {
    pub country_code: String,
    pub year: i32,
    pub cause: String,
    pub deaths: i64,
    pub source: String,
    pub recorded_by: Option<UserId>,
    pub recorded_at: DateTime<Utc>,
}

impl DeathsByCause {
    /// The causes of one country and year, by cause.
    pub fn of_year(conn: &mut PgConnection, country: &str, year: i32) -> QueryResult<Vec<DeathsByCause>> {
        d::table.filter(d::country_code.eq(country)).filter(d::year.eq(year)).order(d::cause).select(DeathsByCause::as_select()).load(conn)
    }

    /// The latest year not after `year` with deaths recorded for the country.
    pub fn latest_year(conn: &mut PgConnection, country: &str, year: i32) -> QueryResult<Option<i32>> {
        d::table.filter(d::country_code.eq(country)).filter(d::year.le(year)).select(diesel::dsl::max(d::year)).first(conn)
    }

    /// Replaces the causes of one country and year with `rows`.
    pub fn replace(conn: &mut PgConnection, country: &str, year: i32, rows: &[DeathsByCause]) -> QueryResult<()> {
        diesel::delete(d::table.filter(d::country_code.eq(country)).filter(d::year.eq(year))).execute(conn)?;
        if !rows.is_empty() {
            diesel::insert_into(d::table).values(rows).execute(conn)?;
        }
        Ok(())
    }
}
