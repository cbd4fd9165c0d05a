//! The hub's regional view: for every country of the bloc and every month of a year that
//! has ended, the package in force (the latest correction) or what is missing — no package
//! at all, or sections the country withheld. Only what countries sent is read: the hub
//! holds no national rows.

use chrono::{Datelike, NaiveDate};
use diesel::PgConnection;

use crate::app::error::{AppError, AppResult};
use crate::db::models::country::Country;
use crate::db::models::exchange::ReceivedPackage;
use crate::domain::period::Month;
use crate::exchange::package::Package;

/// Where a country's month stands on the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthStatus {
    /// A package with every section.
    Complete,
    /// A package with some sections withheld.
    Partial,
    /// A package with every section withheld.
    Withheld,
    /// No package.
    Missing,
}

#[derive(Debug, Clone)]
pub struct MonthEntry {
    pub month: Month,
    pub status: MonthStatus,
    /// The package in force and its record.
    pub package: Option<(ReceivedPackage, Package)>,
    /// Earlier packages of the month, superseded by corrections (kept).
    pub superseded: i64,
}

#[derive(Debug, Clone)]
pub struct CountryMonths {
    pub country: String,
    pub name: String,
    pub months: Vec<MonthEntry>,
}

/// The months of `year` that have ended on `today`.
pub fn ended_months(year: i32, today: NaiveDate) -> Vec<Month> {
    let mut out = Vec::new();
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else { return out };
    let mut m = Month::of(first);
    while m.first_day().year() == year && m.has_ended(today) {
        out.push(m);
        m = m.next();
    }
    out
}

/// Every country's months of `year` as received by the hub; `today` is the hub's (the
/// earliest local date of the members, `app::regional::bloc_today`).
pub fn report(conn: &mut PgConnection, year: i32, today: NaiveDate) -> AppResult<Vec<CountryMonths>> {
    let months = ended_months(year, today);
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(Country::all(conn)?.into_iter().map(|c| CountryMonths { country: c.code, name: c.name, months: Vec::new() }).collect());
    };
    let received = ReceivedPackage::current_between(conn, first.first_day(), last.first_day())?;
    let mut out = Vec::new();
    for c in Country::all(conn)? {
        let mut entries = Vec::new();
        for m in &months {
            let row = received.iter().find(|r| r.country_code == c.code && r.month == m.first_day());
            let entry = match row {
                None => MonthEntry { month: *m, status: MonthStatus::Missing, package: None, superseded: 0 },
                Some(row) => {
                    let package: Package = serde_json::from_value(row.package.clone()).map_err(|e| AppError::Internal(e.into()))?;
                    let status = match (package.shared.is_empty(), package.withheld.is_empty()) {
                        (true, _) => MonthStatus::Withheld,
                        (false, true) => MonthStatus::Complete,
                        (false, false) => MonthStatus::Partial,
                    };
                    let superseded = ReceivedPackage::superseded_count(conn, &c.code, m.first_day())?;
                    MonthEntry { month: *m, status, package: Some((row.clone(), package)), superseded }
                }
            };
            entries.push(entry);
        }
        out.push(CountryMonths { country: c.code, name: c.name, months: entries });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ended_months_are_expected() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(ended_months(2026, day(2026, 3, 31)).len(), 2);
        assert_eq!(ended_months(2026, day(2026, 4, 1)).len(), 3);
        assert_eq!(ended_months(2025, day(2026, 4, 1)).len(), 12);
        assert!(ended_months(2027, day(2026, 4, 1)).is_empty());
    }
}
