//! `analytics_parameters`: the numeric parameters of the analytics (reserve months, the
//! per-capita reference, the morbidity method's shares, days and doses), each with its unit,
//! its source and whether it is still the value Tarozi ships.

use bigdecimal::BigDecimal;
use diesel::prelude::*;

use crate::db::schema::analytics_parameters as p;
use crate::domain::decimal::Decimal;

/// A numeric parameter of the analytics (`analytics_parameters`), its value normalized.
#[derive(Debug, Clone)]
pub struct AnalyticsParameter {
    pub code: String,
    pub value: Decimal,
    pub unit: String,
    pub description: String,
    pub source: String,
    /// Still the value Tarozi ships (no admin has set it).
    pub is_default: bool,
}

type Row = (String, BigDecimal, String, String, String, bool);

impl AnalyticsParameter {
    /// Every parameter, by code.
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<AnalyticsParameter>> {
        let rows: Vec<Row> = p::table.order(p::code).select((p::code, p::value, p::unit, p::description, p::source, p::is_default)).load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(code, value, unit, description, source, is_default)| AnalyticsParameter {
                code,
                value: Decimal(value.normalized()),
                unit,
                description,
                source,
                is_default,
            })
            .collect())
    }

    /// The parameter `code`.
    pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<AnalyticsParameter>> {
        Ok(Self::all(conn)?.into_iter().find(|p| p.code == code))
    }

    /// The parameters whose code starts with `prefix`, by code.
    pub fn with_prefix(conn: &mut PgConnection, prefix: &str) -> QueryResult<Vec<AnalyticsParameter>> {
        Ok(Self::all(conn)?.into_iter().filter(|p| p.code.starts_with(prefix)).collect())
    }
}
