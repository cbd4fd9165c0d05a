//! Where every dispensing facility of a country stands for one month: `closed`, `open`
//! (still within the grace days after the month) or `late`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::PeriodStatus;
use crate::db::models::country::Country;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::db::models::reporting_period::ReportingPeriod;
use crate::domain::ids::{FacilityId, RegionId};
use crate::domain::period::{Month, today_in};

/// One facility's standing for the month, with its closing when closed.
#[derive(Debug, Clone)]
pub struct FacilityPeriod {
    pub facility_id: FacilityId,
    pub facility_name: String,
    pub region_id: RegionId,
    pub status: PeriodStatus,
    pub zero_report: Option<bool>,
    pub dispensing_count: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The dispensing facilities of `country` for `month` as of the instant `now` (judged on the
/// country's own calendar: a month is due `grace_days` after its local end), those with
/// `status` only when one is given.
pub fn of_country(
    conn: &mut PgConnection,
    country: &str,
    month: Month,
    now: DateTime<Utc>,
    grace_days: i64,
    status: Option<PeriodStatus>,
) -> QueryResult<Vec<FacilityPeriod>> {
    let today = today_in(Country::zone_of(conn, country)?, now);
    let (all, _) = Facility::page(conn, &FacilityFilter { country_code: Some(country.to_owned()), ..Default::default() }, 0, i64::MAX)?;
    let closed = ReportingPeriod::of_country(conn, country, month.first_day())?;
    Ok(all
        .into_iter()
        .filter(|f| f.kind.is_retail())
        .map(|f| {
            let row = closed.iter().find(|c| c.facility_id == f.id);
            let status = match row {
                Some(_) => PeriodStatus::Closed,
                None if today > month.due_by(grace_days) => PeriodStatus::Late,
                None => PeriodStatus::Open,
            };
            FacilityPeriod {
                facility_id: f.id,
                facility_name: f.name,
                region_id: f.region_id,
                status,
                zero_report: row.map(|r| r.zero_report),
                dispensing_count: row.map(|r| r.dispensing_count),
                closed_at: row.map(|r| r.closed_at),
            }
        })
        .filter(|p| status.is_none_or(|s| s == p.status))
        .collect())
}
