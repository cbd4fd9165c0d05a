//! The regional view: per country of the bloc, the availability totals of a year and the
//! licensed dispensing facilities; nothing below country level.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::analytics::availability::{self, AreaMetrics, AvailabilityRequest};
use crate::analytics::{AnalyticsResult, report_period};
use crate::db::models::country::Country;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::db::reports::flows::{DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::period::today_in;

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

/// Every country's aggregates for `year` at `now`: each country counts its own days (up to
/// its own today, cut at its local midnight); the report's `period` is the longest of them
/// (the country furthest east), or the year up to today in UTC without any country.
pub fn report(conn: &mut PgConnection, year: i32, now: DateTime<Utc>) -> AnalyticsResult<RegionalReport> {
    let mut countries = Vec::new();
    let mut period: Option<DateRange> = None;
    for c in Country::all(conn)? {
        let zone = c.zone()?;
        let own = report_period(Some(year), None, None, today_in(zone, now), zone)?;
        let range = own.range;
        if period.is_none_or(|p| range.to > p.to) {
            period = Some(range);
        }
        let request = AvailabilityRequest { country: c.code.clone(), region_id: None, range, partial: own.partial, group_by: None };
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
    let period = match period {
        Some(p) => p,
        None => report_period(Some(year), None, None, now.date_naive(), crate::domain::period::Tz::UTC)?.range,
    };
    Ok(RegionalReport { year, period, countries })
}
