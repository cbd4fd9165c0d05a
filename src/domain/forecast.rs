//! The exhaustion forecast of an estimate: at the rate used so far this year, the day the
//! year's estimate runs out (INCB–WHO guide: an estimate is a ceiling for the year).

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive, Zero};
use chrono::{Datelike, Duration, NaiveDate};

/// What the current rate says about the year's estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exhaustion {
    /// Nothing used yet: no rate to project.
    NoUse,
    /// Already used up (use so far ≥ estimate).
    Exceeded,
    /// At the current rate the estimate runs out on this day, within the year.
    RunsOut(NaiveDate),
    /// At the current rate the estimate lasts the whole year.
    LastsTheYear,
}

/// The forecast for an estimate of `estimate_g` of which `used_g` was used in the
/// `days_elapsed` days from `year_start` (1 January). The estimate runs out on the first day
/// `d` (counting `year_start` as day 1) with `d × used_g ÷ days_elapsed ≥ estimate_g`, that is
/// `d = ⌈estimate_g × days_elapsed ÷ used_g⌉`.
pub fn exhaustion(estimate_g: &BigDecimal, used_g: &BigDecimal, year_start: NaiveDate, days_elapsed: i64) -> Exhaustion {
    if used_g <= &BigDecimal::zero() || days_elapsed <= 0 {
        return Exhaustion::NoUse;
    }
    if used_g >= estimate_g {
        return Exhaustion::Exceeded;
    }
    let days = (estimate_g * BigDecimal::from(days_elapsed) / used_g).with_scale_round(0, RoundingMode::Ceiling);
    let year_end = NaiveDate::from_ymd_opt(year_start.year(), 12, 31).unwrap_or(year_start);
    match days.to_i64() {
        Some(d) if d >= 1 => {
            let day = year_start + Duration::days(d - 1);
            if day > year_end { Exhaustion::LastsTheYear } else { Exhaustion::RunsOut(day) }
        }
        Some(_) => Exhaustion::Exceeded,
        None => Exhaustion::LastsTheYear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jan1() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn a_quarter_used_in_73_days_runs_out_on_day_292() {
        // 1000 g estimate, 250 g in 73 days: ⌈1000 × 73 ÷ 250⌉ = 292 days, 1 Jan + 291 days = 19 Oct.
        assert_eq!(
            exhaustion(&BigDecimal::from(1000), &BigDecimal::from(250), jan1(), 73),
            Exhaustion::RunsOut(NaiveDate::from_ymd_opt(2026, 10, 19).unwrap())
        );
    }

    #[test]
    fn slow_use_lasts_the_year_and_no_use_has_no_forecast() {
        // 100 g in 100 days of a 1000 g estimate: 1000 days, past 31 December.
        assert_eq!(exhaustion(&BigDecimal::from(1000), &BigDecimal::from(100), jan1(), 100), Exhaustion::LastsTheYear);
        assert_eq!(exhaustion(&BigDecimal::from(1000), &BigDecimal::from(0), jan1(), 100), Exhaustion::NoUse);
        assert_eq!(exhaustion(&BigDecimal::from(1000), &BigDecimal::from(1000), jan1(), 100), Exhaustion::Exceeded);
    }

    #[test]
    fn the_last_day_of_the_year_still_counts() {
        // 365 g estimate, 1 g a day for 10 days: day 365 = 31 December 2026.
        assert_eq!(
            exhaustion(&BigDecimal::from(365), &BigDecimal::from(10), jan1(), 10),
            Exhaustion::RunsOut(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
        );
    }
}
