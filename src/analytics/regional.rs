//! The regional view: per country of the bloc, the availability totals of a year and the
//! licensed dispensing facilities; nothing below country level.

use diesel::prelude::*;

use crate::analytics::AnalyticsResult;
use crate::analytics::availability::{self, AreaMetrics, AvailabilityRequest};
use crate::db::models::country::Country;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::db::reports::flows::{DateRange, Source};
use crate::domain::decimal::Decimal;

#[derive(Debug, Clone)]
pub struct CountryAggregate {
    pub country: String,
    pub name: String,
    pub population: Option<Decimal>,
    pub metrics: AreaMetrics,
    /// Licensed pharmacies and hospital pharmacies on the last day of the range.
    pub dispensing_facilities: i64,
}

#[derive(Debug, Clone)]
pub struct RegionalReport {
    pub year: i32,
    pub period: DateRange,
    pub countries: Vec<CountryAggregate>,
}

/// Every country's aggregates for `year` (its days up to `range.to`).
pub fn report(conn: &mut PgConnection, year: i32, range: DateRange) -> AnalyticsResult<RegionalReport> {
    let mut countries = Vec::new();
    for c in Country::all(conn)? {
        let request = AvailabilityRequest { country: c.code.clone(), region_id: None, range, group_by: None };
        let r = availability::report(conn, &request, Source::Aggregates)?;
        let (facilities, _) = Facility::page(conn, &FacilityFilter { country_code: Some(c.code.clone()), ..Default::default() }, 0, i64::MAX)?;
        let dispensing = facilities.iter().filter(|f| f.kind.is_retail() && f.licensed_on(range.to)).count() as i64;
        countries.push(CountryAggregate {
            country: c.code,
            name: c.name,
            population: r.population,
            metrics: r.total,
            dispensing_facilities: dispensing,
        });
    }
    Ok(RegionalReport { year, period: range, countries })
}
