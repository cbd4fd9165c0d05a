//! The regional view, one query for every front door (`GET /api/v1/analytics/regional` and
//! the dashboard's `/dashboard/regional`): on the regional exchange hub (`TAROZI_HUB`) the
//! packages the countries sent (`app::exchange::regional`), on any other instance the
//! aggregates of the countries held in its own database (`analytics::regional`).
//!
//! "Today" has no single zone here. Elsewhere each country counts its own days up to its own
//! today (what `analytics::regional` does). On the hub a month is expected once it has ended
//! in *every* member country's zone: the hub's today is the earliest of the members' local
//! dates (the zone furthest west), so no country is reported missing for a month that is
//! not over at home yet.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::PgConnection;

use crate::analytics::{self, regional::RegionalReport};
use crate::app::error::AppResult;
use crate::app::exchange::regional::{self as hub, CountryMonths};
use crate::db::models::country::Country;
use crate::db::reports::flows::DateRange;
use crate::domain::period::{Tz, today_in};

/// The hub's regional view of a year.
#[derive(Debug, Clone)]
pub struct HubView {
    /// The year's days up to the hub's today.
    pub period: DateRange,
    pub countries: Vec<CountryMonths>,
}

/// Where the regional view reads from on this instance.
#[derive(Debug, Clone)]
pub enum Source {
    /// Every country in this database (an instance that is not the hub).
    Database(RegionalReport),
    /// What the countries sent this hub.
    Hub(HubView),
}

/// The regional view of a year.
#[derive(Debug, Clone)]
pub struct RegionalView {
    pub year: i32,
    /// The bloc's today: the earliest local date among the member countries.
    pub today: NaiveDate,
    pub source: Source,
}

/// The bloc's today at `now`: the earliest local date of the member countries (UTC without
/// any country), and the zone it is read in.
pub fn bloc_today(conn: &mut PgConnection, now: DateTime<Utc>) -> AppResult<(NaiveDate, Tz)> {
    let mut earliest: Option<(NaiveDate, Tz)> = None;
    for c in Country::all(conn)? {
        let zone = c.zone()?;
        let day = today_in(zone, now);
        if earliest.is_none_or(|(e, _)| day < e) {
            earliest = Some((day, zone));
        }
    }
    Ok(earliest.unwrap_or((now.date_naive(), Tz::UTC)))
}

/// The regional view of `year` (the year of the bloc's today when `None`) at `now`: the
/// hub's (`hub` set) or the database's.
pub fn report(conn: &mut PgConnection, hub: bool, year: Option<i32>, now: DateTime<Utc>) -> AppResult<RegionalView> {
    let (today, zone) = bloc_today(conn, now)?;
    let year = year.unwrap_or(today.year());
    let source = if hub {
        // The hub holds no national rows: the view is what the countries sent.
        let period = analytics::report_range(Some(year), None, None, today, zone)?;
        Source::Hub(HubView { period, countries: hub::report(conn, year, today)? })
    } else {
        Source::Database(analytics::regional::report(conn, year, now)?)
    };
    Ok(RegionalView { year, today, source })
}
