//! `countries`: the five Central Asian states with their reference population and their
//! tz-database zone (the local midnight that cuts their days and months).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::countries;
use crate::domain::period::{self, Tz};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = countries)]
pub struct Country {
    pub code: String,
    pub iso3: String,
    pub name: String,
    pub population: i64,
    pub population_date: NaiveDate,
    pub population_source: String,
    /// tz-database name, e.g. `Asia/Bishkek`.
    pub time_zone: String,
}

/// Zones by country code. A country's zone is reference data that no request changes, so
/// the write path (every ledger entry is cut into its local month) reads it once.
static ZONES: OnceLock<RwLock<HashMap<String, Tz>>> = OnceLock::new();

impl Country {
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Country>> {
        countries::table.order(countries::code).select(Country::as_select()).load(conn)
    }

    pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Country>> {
        countries::table.find(code).select(Country::as_select()).first(conn).optional()
    }

    /// The country's zone; a name the tz database does not know is a data error.
    pub fn zone(&self) -> QueryResult<Tz> {
        period::zone(&self.time_zone).ok_or_else(|| {
            diesel::result::Error::DeserializationError(format!("country {}: unknown time zone {:?}", self.code, self.time_zone).into())
        })
    }

    /// The zone of the country `code`; UTC for a code that is no country (the caller's own
    /// look-up of the country then refuses it).
    pub fn zone_of(conn: &mut PgConnection, code: &str) -> QueryResult<Tz> {
        let zones = ZONES.get_or_init(Default::default);
        if let Some(z) = zones.read().ok().and_then(|m| m.get(code).copied()) {
            return Ok(z);
        }
        let Some(country) = Country::find(conn, code)? else { return Ok(Tz::UTC) };
        let z = country.zone()?;
        if let Ok(mut m) = zones.write() {
            m.insert(code.to_owned(), z);
        }
        Ok(z)
    }
}
