//! Calendar periods in a country's own time: monthly reporting periods (`YYYY-MM`), inclusive
//! date ranges, their bounds as instants, and what "today" and "over" mean.
//!
//! Every country keeps a tz-database zone (`countries.time_zone`, e.g. `Asia/Bishkek`). Days and
//! months are cut at that zone's local midnight, never at UTC midnight: a dispensing at 02:00 on
//! 1 April in Bishkek (31 March 20:00 UTC) belongs to April. A range or month becomes a
//! half-open span of UTC instants only here ([`local_midnight`]), so SQL compares timestamps
//! with bounds computed once.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
pub use chrono_tz::Tz;

/// The first instant of `day` in `zone`. Where a zone skips its midnight (a daylight-saving
/// change at 00:00), the first instant of the day that exists.
pub fn local_midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut at = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..24 * 4 {
        match zone.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            // In a gap: the clock jumps forward, so try a quarter of an hour later.
            LocalResult::None => at += Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The local calendar day of `at` in `zone`.
pub fn local_day(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// Today in `zone` at the instant `now`.
pub fn today_in(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    local_day(zone, now)
}

/// A tz-database zone by name (`Asia/Almaty`), or `None` if the database does not know it.
pub fn zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// An inclusive range of days of one country's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The zone whose midnights cut the days.
    pub zone: Tz,
}

/// A half-open span of time `[start, end)`.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

impl DateRange {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Days of the range in each calendar year.
    pub fn days_by_year(&self) -> Vec<(i32, i64)> {
        let mut out = Vec::new();
        let mut year = self.from.year();
        while year <= self.to.year() {
            let start = self.from.max(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(self.from));
            let end = self.to.min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(self.to));
            out.push((year, (end - start).num_days() + 1));
            year += 1;
        }
        out
    }

    /// `[local midnight of from, local midnight after to)`, as UTC instants.
    pub fn bounds(&self) -> Span {
        (self.midnight(self.from), self.midnight(self.to + Duration::days(1)))
    }

    /// The start of `day` in the range's zone.
    pub fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        local_midnight(self.zone, day)
    }

    /// The whole months inside the range (first and last), if any.
    pub fn whole_months(&self) -> Option<(Month, Month)> {
        let mut first = Month::of(self.from);
        if first.first_day() < self.from {
            first = first.next();
        }
        let mut last = Month::of(self.to);
        if last.last_day() > self.to {
            last = Month::of(last.first_day() - Duration::days(1));
        }
        (first <= last && first.first_day() >= self.from).then_some((first, last))
    }

    /// Whether `day` is past the range's last day: the period is over.
    pub fn is_over(&self, today: NaiveDate) -> bool {
        today > self.to
    }
}

/// A quantity per `days` scaled to a year of `days_in_year` days (365 or 366): the rate the
/// period would give if it ran for a whole year at the same pace.
pub fn annualised(value: &bigdecimal::BigDecimal, days: i64, days_in_year: i64) -> Option<bigdecimal::BigDecimal> {
    (days > 0).then(|| value * bigdecimal::BigDecimal::from(days_in_year) / bigdecimal::BigDecimal::from(days))
}

/// Days in the calendar year holding `day` (365 or 366).
pub fn days_in_year_of(day: NaiveDate) -> i64 {
    if NaiveDate::from_ymd_opt(day.year(), 2, 29).is_some() { 366 } else { 365 }
}

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

    /// The month holding the instant `at` in `zone`.
    pub fn of_instant(zone: Tz, at: DateTime<Utc>) -> Month {
        Month::of(local_day(zone, at))
    }

    /// The month's start and the next month's start (local midnights of `zone`), as UTC
    /// instants.
    pub fn bounds(self, zone: Tz) -> Span {
        (local_midnight(zone, self.first), local_midnight(zone, self.next().first))
    }

    /// The month as a range of days in `zone`.
    pub fn range(self, zone: Tz) -> DateRange {
        DateRange { from: self.first, to: self.last_day(), zone }
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
        let (from, to) = m.bounds(Tz::UTC);
        assert_eq!((to - from).num_days(), 29);
        assert!(m.has_ended(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()));
        assert!(!m.has_ended(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_are_cut_at_local_midnight() {
        // Bishkek is UTC+6: 1 April 00:00 local is 31 March 18:00 UTC.
        let bishkek = zone("Asia/Bishkek").unwrap();
        let (from, to) = Month::parse("2026-04").unwrap().bounds(bishkek);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 31, 18, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 4, 30, 18, 0, 0).unwrap());
        // 02:00 local on 1 April = 31 March 20:00 UTC: April in Bishkek, March in UTC.
        let at = Utc.with_ymd_and_hms(2026, 3, 31, 20, 0, 0).unwrap();
        assert_eq!(Month::of_instant(bishkek, at).label(), "2026-04");
        assert_eq!(Month::of_instant(Tz::UTC, at).label(), "2026-03");
        // 23:59 local on 31 March = 17:59 UTC: still March.
        let before = Utc.with_ymd_and_hms(2026, 3, 31, 17, 59, 0).unwrap();
        assert_eq!(Month::of_instant(bishkek, before).label(), "2026-03");
        assert_eq!(today_in(bishkek, at), day(2026, 4, 1));
    }

    #[test]
    fn the_five_zones_are_known_with_their_offsets() {
        // Offsets on 1 January 2026 (none of the five keeps daylight saving time).
        for (name, hours) in [("Asia/Almaty", 5), ("Asia/Bishkek", 6), ("Asia/Dushanbe", 5), ("Asia/Ashgabat", 5), ("Asia/Tashkent", 5)] {
            let z = zone(name).unwrap();
            let start = local_midnight(z, day(2026, 1, 1));
            assert_eq!(start, Utc.with_ymd_and_hms(2025, 12, 31, 24 - hours, 0, 0).unwrap(), "{name}");
        }
        assert!(zone("Asia/Nowhere").is_none());
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_its_first_instant() {
        // São Paulo moved its clocks from 00:00 to 01:00 on 4 November 2018 (UTC-3 to UTC-2).
        let z = zone("America/Sao_Paulo").unwrap();
        assert_eq!(local_midnight(z, day(2018, 11, 4)), Utc.with_ymd_and_hms(2018, 11, 4, 3, 0, 0).unwrap());
    }

    #[test]
    fn ranges_in_progress_count_the_days_so_far() {
        let z = zone("Asia/Tashkent").unwrap();
        let year = DateRange { from: day(2026, 1, 1), to: day(2026, 12, 31), zone: z };
        // 1 January to 30 April 2026: 31 + 28 + 31 + 30 = 120 days.
        let so_far = DateRange { to: day(2026, 4, 30), ..year };
        assert_eq!(so_far.days(), 120);
        assert!(!year.is_over(day(2026, 4, 30)));
        // The last day itself is still in progress; the next day it is over.
        assert!(!year.is_over(day(2026, 12, 31)));
        assert!(year.is_over(day(2027, 1, 1)));
        let (from, to) = so_far.bounds();
        assert_eq!(from, Utc.with_ymd_and_hms(2025, 12, 31, 19, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 4, 30, 19, 0, 0).unwrap());
    }

    #[test]
    fn rates_annualise_by_the_days_of_the_year() {
        use std::str::FromStr;
        let d = |s: &str| bigdecimal::BigDecimal::from_str(s).unwrap();
        // 12 mg per capita in 120 days of 2026 (365 days): 12 × 365 ÷ 120 = 36.5.
        assert_eq!(annualised(&d("12"), 120, 365).unwrap(), d("36.5"));
        assert_eq!(annualised(&d("12"), 0, 365), None);
        assert_eq!(days_in_year_of(day(2024, 5, 1)), 366);
        assert_eq!(days_in_year_of(day(2026, 5, 1)), 365);
    }
}
