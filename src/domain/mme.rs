//! Patient-level morphine milligram equivalents per day (CDC 2022).
//!
//! The CDC factors apply to the **labelled strength**: mg of the salt or ester printed on the
//! pack ("morphine sulfate 10 mg", "oxycodone hydrochloride 5 mg"), not to the anhydrous
//! base the INCB figures use. Oral and parenteral products: labelled mg per day × the
//! substance's factor in force on the dispensing date, where labelled mg per day is units ×
//! labelled strength ÷ days of supply. A product whose labelled strength is unknown gets no
//! figure. Transdermal products use their delivery rate: mcg/h × the substance's transdermal
//! factor (fentanyl 2.4 MME/day per mcg/h), whatever the number of patches.

use bigdecimal::{BigDecimal, RoundingMode};
use chrono::NaiveDate;

/// What the formula needs of a product and of its substance's values in force that day.
#[derive(Debug, Clone)]
pub struct MmeFactors {
    /// Labelled strength of one unit, mg of the salt on the label; `None` when unknown.
    pub strength_mg_per_unit: Option<BigDecimal>,
    pub me_factor: Option<BigDecimal>,
    pub delivery_mcg_per_hour: Option<BigDecimal>,
    pub transdermal_mme_per_mcg_h: Option<BigDecimal>,
}

/// Daily MME of one dispensing, to 4 decimals; `None` when the labelled strength or a needed
/// factor is not known.
pub fn daily_mme(factors: &MmeFactors, units: i64, days_supply: i32) -> Option<BigDecimal> {
    let value = match &factors.delivery_mcg_per_hour {
        Some(rate) => rate * factors.transdermal_mme_per_mcg_h.as_ref()?,
        None => {
            if days_supply <= 0 {
                return None;
            }
            let labelled_mg_per_day = factors.strength_mg_per_unit.as_ref()? * BigDecimal::from(units) / BigDecimal::from(days_supply);
            labelled_mg_per_day * factors.me_factor.as_ref()?
        }
    };
    Some(value.with_scale_round(4, RoundingMode::HalfUp))
}

/// The version in force on `day` among `versions` given as (effective from, recorded order,
/// value): the latest `effective_from` not after `day`, ties to the latest recorded.
pub fn in_force_on<T>(versions: &[(NaiveDate, i64, T)], day: NaiveDate) -> Option<&T> {
    versions.iter().filter(|(from, _, _)| *from <= day).max_by_key(|(from, order, _)| (*from, *order)).map(|(_, _, v)| v)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    fn oral(strength: &str, factor: &str) -> MmeFactors {
        MmeFactors {
            strength_mg_per_unit: Some(d(strength)),
            me_factor: Some(d(factor)),
            delivery_mcg_per_hour: None,
            transdermal_mme_per_mcg_h: None,
        }
    }

    #[test]
    fn the_factor_applies_to_the_labelled_strength() {
        // Morphine sulfate 10 mg × 100 over 10 days = 100 mg/day × 1.0 = 100 MME/day (the
        // base, 7.521 mg a tablet, gave 75.21).
        assert_eq!(daily_mme(&oral("10", "1"), 100, 10), Some(d("100")));
        // Oxycodone hydrochloride 5 mg × 30 over 7 days × 1.5 = 150 × 1.5 / 7 = 32.142857…
        assert_eq!(daily_mme(&oral("5", "1.5"), 30, 7), Some(d("32.1429")));
    }

    #[test]
    fn patches_use_the_delivery_rate() {
        let f = MmeFactors {
            strength_mg_per_unit: Some(d("6.48")),
            me_factor: Some(d("100")),
            delivery_mcg_per_hour: Some(d("25")),
            transdermal_mme_per_mcg_h: Some(d("2.4")),
        };
        assert_eq!(daily_mme(&f, 10, 30), Some(d("60")));
    }

    #[test]
    fn an_unknown_strength_or_factor_gives_no_figure() {
        assert_eq!(daily_mme(&MmeFactors { me_factor: None, ..oral("10", "1") }, 10, 10), None);
        assert_eq!(daily_mme(&MmeFactors { strength_mg_per_unit: None, ..oral("10", "1") }, 10, 10), None);
        let patch = MmeFactors {
            strength_mg_per_unit: None,
            me_factor: Some(d("30")),
            delivery_mcg_per_hour: Some(d("10")),
            transdermal_mme_per_mcg_h: None,
        };
        assert_eq!(daily_mme(&patch, 4, 28), None);
    }

    #[test]
    fn the_version_in_force_is_the_latest_started() {
        let day = |s: &str| NaiveDate::from_str(s).unwrap();
        let versions = vec![(day("1961-03-30"), 1, "old"), (day("2026-06-01"), 2, "new"), (day("2026-06-01"), 3, "newer")];
        assert_eq!(in_force_on(&versions, day("2026-05-31")), Some(&"old"));
        assert_eq!(in_force_on(&versions, day("2026-06-01")), Some(&"newer"));
        assert_eq!(in_force_on(&versions, day("1960-01-01")), None);
    }
}
