//! Monthly reporting periods: `YYYY-MM`, their bounds and their due date.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

/// Years a reporting period can fall in: from the Single Convention (1961) on, as every other
/// year the API takes.
pub const YEARS: std::ops::RangeInclusive<i32> = 1961..=2200;

impl Month {
    /// `YYYY-MM` of a year in `YEARS`, or `None`.
    pub fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        if !YEARS.contains(&year) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(year, m.parse().ok()?, 1)?;
        Some(Month { first })
    }

    /// The month holding `day`.
    pub fn of(day: NaiveDate) -> Month {
        Month { first: day.with_day(1).unwrap_or(day) }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn next(self) -> Month {
        let (y, m) = if self.first.month() == 12 { (self.first.year() + 1, 1) } else { (self.first.year(), self.first.month() + 1) };
        Month { first: NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(self.first) }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - Duration::days(1)
    }

    /// The month's start and the next month's start, in UTC.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
        (at(self.first), at(self.next().first))
    }

    /// The last day to close the period on time: `grace_days` after the month's end.
    pub fn due_by(self, grace_days: i64) -> NaiveDate {
        self.last_day() + Duration::days(grace_days)
    }

    /// Whether the month is over on `today`.
    pub fn has_ended(self, today: NaiveDate) -> bool {
        today > self.last_day()
    }

    pub fn label(self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound() {
        let m = Month::parse("2024-02").unwrap();
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(m.due_by(10), NaiveDate::from_ymd_opt(2024, 3, 10).unwrap());
        assert_eq!(Month::parse("2024-12").unwrap().next().label(), "2025-01");
        assert!(Month::parse("2024-13").is_none());
        assert!(Month::parse("2024-1").is_none());
        assert!(Month::parse("24-01").is_none());
        assert!(Month::parse("0001-01").is_none());
        assert!(Month::parse("1960-12").is_none());
        assert!(Month::parse("1961-01").is_some());
        assert!(Month::parse("2200-12").is_some());
        assert!(Month::parse("2201-01").is_none());
        assert!(Month::parse("+202-01").is_none());
        let (from, to) = m.bounds();
        assert_eq!((to - from).num_days(), 29);
        assert!(m.has_ended(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()));
        assert!(!m.has_ended(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
    }
}
