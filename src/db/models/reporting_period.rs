//! `reporting_periods`: a facility's closed months, with or without a zero report.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::schema::reporting_periods;
use crate::domain::ids::{FacilityId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reporting_periods)]
pub struct ReportingPeriod {
    pub facility_id: FacilityId,
    pub period: NaiveDate,
    pub country_code: String,
    pub zero_report: bool,
    pub dispensing_count: i64,
    pub closed_at: DateTime<Utc>,
    pub closed_by: Option<UserId>,
}

impl ReportingPeriod {
    pub fn close(conn: &mut PgConnection, row: &ReportingPeriod) -> QueryResult<ReportingPeriod> {
        diesel::insert_into(reporting_periods::table).values(row).returning(ReportingPeriod::as_returning()).get_result(conn)
    }

    /// First days of the months a facility has closed, from `since` on.
    pub fn closed_months(conn: &mut PgConnection, facility_id: FacilityId, since: NaiveDate) -> QueryResult<Vec<NaiveDate>> {
        reporting_periods::table
            .filter(reporting_periods::facility_id.eq(facility_id))
            .filter(reporting_periods::period.ge(since))
            .select(reporting_periods::period)
            .load(conn)
    }

    /// Closed periods of a country's facilities for one month.
    pub fn of_country(conn: &mut PgConnection, country: &str, period: NaiveDate) -> QueryResult<Vec<ReportingPeriod>> {
        reporting_periods::table
            .filter(reporting_periods::country_code.eq(country))
            .filter(reporting_periods::period.eq(period))
            .select(ReportingPeriod::as_select())
            .load(conn)
    }
}
