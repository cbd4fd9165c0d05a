//! `estimates`: INCB Form B estimates in grams of base; the total in force for a country,
//! substance and year is the annual estimate plus every supplementary one.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::EstimateKind;
use crate::db::schema::estimates;
use crate::domain::ids::{EstimateId, SubstanceId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = estimates)]
pub struct Estimate {
    pub id: EstimateId,
    pub country_code: String,
    pub substance_id: SubstanceId,
    pub year: i32,
    pub kind: EstimateKind,
    pub quantity_g: BigDecimal,
    pub reference: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = estimates)]
pub struct NewEstimate<'a> {
    pub country_code: &'a str,
    pub substance_id: SubstanceId,
    pub year: i32,
    pub kind: EstimateKind,
    pub quantity_g: BigDecimal,
    pub reference: Option<&'a str>,
    pub created_by: Option<UserId>,
}

#[derive(Debug, Clone, Default)]
pub struct EstimateFilter {
    pub country_code: Option<String>,
    pub year: Option<i32>,
    pub substance_id: Option<SubstanceId>,
}

impl Estimate {
    pub fn create(conn: &mut PgConnection, new: &NewEstimate<'_>) -> QueryResult<Estimate> {
        diesel::insert_into(estimates::table).values(new).returning(Estimate::as_returning()).get_result(conn)
    }

    /// Every estimate matching `filter`, by country, year, substance, then id.
    pub fn matching(conn: &mut PgConnection, filter: &EstimateFilter) -> QueryResult<Vec<Estimate>> {
        let mut q = estimates::table.into_boxed();
        if let Some(c) = &filter.country_code {
            q = q.filter(estimates::country_code.eq(c.clone()));
        }
        if let Some(y) = filter.year {
            q = q.filter(estimates::year.eq(y));
        }
        if let Some(s) = filter.substance_id {
            q = q.filter(estimates::substance_id.eq(s));
        }
        q.order((estimates::country_code, estimates::year, estimates::substance_id, estimates::id)).select(Estimate::as_select()).load(conn)
    }

    /// The total in force (annual + supplementary), or `None` without any estimate.
    pub fn total_g(conn: &mut PgConnection, country: &str, substance_id: SubstanceId, year: i32) -> QueryResult<Option<BigDecimal>> {
        estimates::table
            .filter(estimates::country_code.eq(country))
            .filter(estimates::substance_id.eq(substance_id))
            .filter(estimates::year.eq(year))
            .select(diesel::dsl::sum(estimates::quantity_g))
            .first(conn)
    }
}
