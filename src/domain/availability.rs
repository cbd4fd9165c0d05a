//! Availability metrics, exact until the final rounding.
//!
//! - S-DDD per million inhabitants per day = Σ over the substances of the INCB
//!   opioid-analgesic basket of (base mg ÷ S-DDD mg) ÷ days ÷ (population ÷ 1 000 000).
//!   Substances outside the basket (methadone for opioid agonist therapy, anaesthetics) do
//!   not count: the figure measures the availability of pain relief.
//! - Morphine-equivalent mg per capita = Σ base mg × ME factor ÷ population.
//!   For a period in progress it is also given per year: × days of the year ÷ days counted
//!   (`domain::period::annualised`). S-DDD per million per day is already a rate per day, so
//!   bands judged on it are judged on the annualised pace, whatever share of a year is counted.
//!
//! A substance without an S-DDD (or ME factor) contributes nothing to that metric and is
//! named in `missing`, never dropped silently. A basket substance with a quantity and no
//! S-DDD makes the S-DDD total `incomplete` (a lower bound, not the figure), naming it.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode, Zero};

use crate::domain::ids::SubstanceId;

/// Digits kept after the point in reported metrics.
pub const METRIC_SCALE: i64 = 4;

/// Base mass of one substance in a period, with its reference values.
#[derive(Debug, Clone)]
pub struct SubstanceAmount {
    pub substance_id: SubstanceId,
    pub mg: BigDecimal,
    pub sddd_mg: Option<BigDecimal>,
    pub me_factor: Option<BigDecimal>,
    /// Counted in the S-DDD total.
    pub in_basket: bool,
}

/// Metrics of an area and period.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub sddd_per_million_per_day: Option<BigDecimal>,
    pub me_mg_per_capita: Option<BigDecimal>,
    /// A basket substance with a quantity has no S-DDD: the S-DDD total leaves it out.
    pub incomplete: bool,
    /// Those substances (id) and their base mg.
    pub missing_from_basket: Vec<(SubstanceId, BigDecimal)>,
}

/// Defined daily doses of `mg` at `sddd_mg` each.
pub fn sddds(mg: &BigDecimal, sddd_mg: &BigDecimal) -> BigDecimal {
    mg / sddd_mg
}

/// Metrics of `amounts` over `days` for `population` (exact; see [`round`]).
/// `None` where the population is unknown or no amount has the needed factor.
pub fn metrics(amounts: &[SubstanceAmount], days: i64, population: Option<&BigDecimal>) -> Metrics {
    let missing_from_basket: Vec<(SubstanceId, BigDecimal)> =
        amounts.iter().filter(|a| a.in_basket && a.sddd_mg.is_none() && !a.mg.is_zero()).map(|a| (a.substance_id, a.mg.clone())).collect();
    let incomplete = !missing_from_basket.is_empty();
    let Some(population) = population.filter(|p| !p.is_zero()) else {
        return Metrics { sddd_per_million_per_day: None, me_mg_per_capita: None, incomplete, missing_from_basket };
    };
    let with_sddd: Vec<BigDecimal> = amounts.iter().filter(|a| a.in_basket).filter_map(|a| a.sddd_mg.as_ref().map(|s| sddds(&a.mg, s))).collect();
    let with_me: Vec<BigDecimal> = amounts.iter().filter_map(|a| a.me_factor.as_ref().map(|f| &a.mg * f)).collect();
    let million = BigDecimal::from(1_000_000);
    let sddd = (!with_sddd.is_empty() && days > 0).then(|| with_sddd.iter().sum::<BigDecimal>() * &million / (BigDecimal::from(days) * population));
    let me = (!with_me.is_empty()).then(|| with_me.iter().sum::<BigDecimal>() / population);
    Metrics { sddd_per_million_per_day: sddd, me_mg_per_capita: me, incomplete, missing_from_basket }
}

/// A metric rounded half-up to [`METRIC_SCALE`] digits.
pub fn round(value: &BigDecimal) -> BigDecimal {
    value.with_scale_round(METRIC_SCALE, RoundingMode::HalfUp).normalized()
}

/// The average population over a period: each year's figure weighted by the period's days
/// in that year. `None` if any year lacks a figure.
pub fn period_population(days_by_year: &[(i32, i64)], population_by_year: &BTreeMap<i32, i64>) -> Option<BigDecimal> {
    let total_days: i64 = days_by_year.iter().map(|(_, d)| d).sum();
    if total_days == 0 {
        return None;
    }
    let mut weighted = BigDecimal::zero();
    for (year, days) in days_by_year {
        weighted += BigDecimal::from(*population_by_year.get(year)?) * BigDecimal::from(*days);
    }
    Some((weighted / BigDecimal::from(total_days)).normalized())
}

/// A band: `code` applies from `min` (inclusive) to `max` (exclusive; none = unbounded).
#[derive(Debug, Clone)]
pub struct Band {
    pub code: String,
    pub min: BigDecimal,
    pub max: Option<BigDecimal>,
}

/// The band holding `value`.
pub fn band_of<'a>(value: &BigDecimal, bands: &'a [Band]) -> Option<&'a Band> {
    bands.iter().find(|b| *value >= b.min && b.max.as_ref().is_none_or(|m| value < m))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn d(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    fn amount(id: i64, mg: &str, sddd: Option<&str>, me: Option<&str>, in_basket: bool) -> SubstanceAmount {
        SubstanceAmount { substance_id: SubstanceId(id), mg: d(mg), sddd_mg: sddd.map(d), me_factor: me.map(d), in_basket }
    }

    #[test]
    fn hand_computed_country_year() {
        // 365 000 000 mg morphine (S-DDD 100, ME 1) and 219 000 mg fentanyl (S-DDD 0.6,
        // ME 100) over 365 days for 10 000 000 people:
        // S-DDD: (3 650 000 + 365 000) / 365 / 10 = 1 100 per million per day.
        // ME: (365 000 000 + 21 900 000) / 10 000 000 = 38.69 mg per capita.
        let amounts = vec![amount(1, "365000000", Some("100"), Some("1"), true), amount(2, "219000", Some("0.6"), Some("100"), true)];
        let m = metrics(&amounts, 365, Some(&d("10000000")));
        assert_eq!(round(&m.sddd_per_million_per_day.unwrap()), d("1100"));
        assert_eq!(round(&m.me_mg_per_capita.unwrap()), d("38.69"));
    }

    #[test]
    fn a_missing_factor_contributes_nothing() {
        let amounts = vec![amount(1, "1000", None, Some("4.7"), false)];
        let m = metrics(&amounts, 30, Some(&d("1000")));
        assert!(m.sddd_per_million_per_day.is_none());
        assert_eq!(m.me_mg_per_capita, Some(d("4.7")));
        assert!(!m.incomplete, "outside the basket: not counted, so nothing is missing from the total");
        assert_eq!(metrics(&amounts, 30, None).me_mg_per_capita, None);
    }

    #[test]
    fn the_total_counts_the_basket_only_and_says_when_it_is_incomplete() {
        // Morphine 3 650 000 mg (S-DDD 100) over 365 days for 1 000 000 people: 100 S-DDD per
        // million per day. Methadone (out of the basket) with an S-DDD set adds nothing;
        // codeine 500 000 mg (in the basket, no S-DDD) makes the total incomplete.
        let amounts = vec![
            amount(1, "3650000", Some("100"), Some("1"), true),
            amount(2, "7300000", Some("50"), Some("4.7"), false),
            amount(3, "500000", None, Some("0.15"), true),
        ];
        let m = metrics(&amounts, 365, Some(&d("1000000")));
        assert_eq!(round(&m.sddd_per_million_per_day.unwrap()), d("100"));
        assert!(m.incomplete);
        assert_eq!(m.missing_from_basket, vec![(SubstanceId(3), d("500000"))]);
        // A basket substance without a quantity is not missing.
        let none = vec![amount(1, "3650000", Some("100"), Some("1"), true), amount(3, "0", None, None, true)];
        assert!(!metrics(&none, 365, Some(&d("1000000"))).incomplete);
    }

    #[test]
    fn population_is_weighted_by_days() {
        let pops: BTreeMap<i32, i64> = [(2024, 1000), (2025, 2000)].into_iter().collect();
        assert_eq!(period_population(&[(2024, 366)], &pops), Some(d("1000")));
        // Dec 2024 (31 days) and Jan 2025 (31 days): the mean.
        assert_eq!(period_population(&[(2024, 31), (2025, 31)], &pops), Some(d("1500")));
        assert_eq!(period_population(&[(2026, 10)], &pops), None);
    }

    #[test]
    fn bands_are_half_open() {
        let bands = vec![
            Band { code: "very_low".into(), min: d("0"), max: Some(d("100")) },
            Band { code: "low".into(), min: d("100"), max: Some(d("200")) },
            Band { code: "adequate".into(), min: d("200"), max: None },
        ];
        assert_eq!(band_of(&d("99.9999"), &bands).unwrap().code, "very_low");
        assert_eq!(band_of(&d("100"), &bands).unwrap().code, "low");
        assert_eq!(band_of(&d("5000"), &bands).unwrap().code, "adequate");
    }

    proptest! {
        /// Regions add up to the country: the country's S-DDD rate over the summed amounts
        /// and populations is the population-weighted mean of the regions' rates.
        #[test]
        fn regions_add_up_to_the_country(regions in proptest::collection::vec((1u64..10_000_000_000u64, 1u64..50_000_000u64, 1i64..5_000_000), 1..12), days in 1i64..400) {
            let sddd = d("100");
            let mut country_pop = BigDecimal::zero();
            let mut weighted = BigDecimal::zero();
            for (mg, fentanyl_micro, pop) in &regions {
                let amounts = vec![
                    SubstanceAmount { substance_id: SubstanceId(1), mg: BigDecimal::from(*mg), sddd_mg: Some(sddd.clone()), me_factor: Some(d("1")), in_basket: true },
                    SubstanceAmount { substance_id: SubstanceId(2), mg: BigDecimal::new((*fentanyl_micro).into(), 3), sddd_mg: Some(d("0.6")), me_factor: Some(d("100")), in_basket: true },
                ];
                let pop = BigDecimal::from(*pop);
                let m = metrics(&amounts, days, Some(&pop));
                weighted += m.sddd_per_million_per_day.unwrap() * &pop;
                country_pop += pop;
            }
            let country_amounts: Vec<SubstanceAmount> = vec![
                SubstanceAmount { substance_id: SubstanceId(1), mg: regions.iter().map(|(mg, _, _)| BigDecimal::from(*mg)).sum(), sddd_mg: Some(sddd.clone()), me_factor: Some(d("1")), in_basket: true },
                SubstanceAmount { substance_id: SubstanceId(2), mg: regions.iter().map(|(_, f, _)| BigDecimal::new((*f).into(), 3)).sum(), sddd_mg: Some(d("0.6")), me_factor: Some(d("100")), in_basket: true },
            ];
            let country = metrics(&country_amounts, days, Some(&country_pop));
            let from_regions = weighted / &country_pop;
            prop_assert_eq!(round(&country.sddd_per_million_per_day.unwrap()), round(&from_regions));
        }
    }
}
