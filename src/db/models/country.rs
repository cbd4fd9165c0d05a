//! `countries`: the five Central Asian states with their reference population.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::countries;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = countries)]
pub struct Country {
    pub code: String,
    pub iso3: String,
    pub name: String,
    pub population: i64,
    pub population_date: NaiveDate,
    pub population_source: String,
}

impl Country {
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Country>> {
        countries::table.order(countries::code).select(Country::as_select()).load(conn)
    }

    pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Country>> {
        countries::table.find(code).select(Country::as_select()).first(conn).optional()
    }
}
