//! Movements against a licensed authorization (an import receipt, an export shipment): the
//! one judgement both directions share, in the order a regulator reads it — the authorization's
//! validity on the movement's day, then the facility's licence, then the units left.

use chrono::NaiveDate;

/// What an authorization allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub authorized_units: i64,
    /// Units already moved against it.
    pub used_units: i64,
}

impl Terms {
    pub fn remaining_units(&self) -> i64 {
        self.authorized_units - self.used_units
    }
}

/// Why a movement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// The day is outside `valid_from..=valid_until`.
    NotValid,
    /// The facility's licence had expired on the day.
    LicenceExpired,
    /// More units than remain; `remaining` were left.
    Exceeded { remaining: i64 },
}

/// Judges a movement of `units` on `day` (the facility's local day) by a facility whose
/// licence runs to `licence_valid_until`; `None` when it may go ahead.
pub fn judge(terms: &Terms, day: NaiveDate, licence_valid_until: NaiveDate, units: i64) -> Option<Breach> {
    let remaining = terms.remaining_units();
    if day < terms.valid_from || day > terms.valid_until {
        Some(Breach::NotValid)
    } else if day > licence_valid_until {
        Some(Breach::LicenceExpired)
    } else if units > remaining {
        Some(Breach::Exceeded { remaining })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    const TERMS: Terms = Terms {
        valid_from: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
        authorized_units: 100,
        used_units: 60,
    };

    #[test]
    fn the_first_and_last_valid_days_and_the_exact_remainder_are_allowed() {
        assert_eq!(TERMS.remaining_units(), 40);
        assert_eq!(judge(&TERMS, d(10), d(31), 40), None);
        assert_eq!(judge(&TERMS, d(20), d(20), 1), None);
    }

    #[test]
    fn a_day_outside_the_validity_is_refused_before_anything_else() {
        assert_eq!(judge(&TERMS, d(9), d(1), 1_000), Some(Breach::NotValid));
        assert_eq!(judge(&TERMS, d(21), d(31), 1), Some(Breach::NotValid));
    }

    #[test]
    fn an_expired_licence_is_refused_before_the_quantity() {
        assert_eq!(judge(&TERMS, d(15), d(14), 1_000), Some(Breach::LicenceExpired));
        assert_eq!(judge(&TERMS, d(15), d(15), 1), None);
    }

    #[test]
    fn one_unit_more_than_remains_is_refused_naming_the_remainder() {
        assert_eq!(judge(&TERMS, d(15), d(31), 41), Some(Breach::Exceeded { remaining: 40 }));
    }
}
