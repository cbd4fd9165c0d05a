//! Patient-level morphine milligram equivalents per day.
//!
//! Oral and parenteral products: base mg per day × ME factor, where base mg per day is the
//! units dispensed × base content ÷ days of supply. Transdermal products use their delivery
//! rate: mcg/h × the substance's transdermal factor (CDC 2022: fentanyl 2.4 MME/day per
//! mcg/h), whatever the number of patches.

use bigdecimal::{BigDecimal, RoundingMode};

/// What the formula needs of a product and its substance.
#[derive(Debug, Clone)]
pub struct MmeFactors {
    pub base_mg_per_unit: BigDecimal,
    pub me_factor: Option<BigDecimal>,
    pub delivery_mcg_per_hour: Option<BigDecimal>,
    pub transdermal_mme_per_mcg_h: Option<BigDecimal>,
}

/// Daily MME of one dispensing, to 4 decimals; `None` when a needed factor is not configured.
pub fn daily_mme(factors: &MmeFactors, units: i64, days_supply: i32) -> Option<BigDecimal> {
    let value = match &factors.delivery_mcg_per_hour {
        Some(rate) => rate * factors.transdermal_mme_per_mcg_h.as_ref()?,
        None => {
            if days_supply <= 0 {
                return None;
            }
            let base_mg_per_day = &factors.base_mg_per_unit * BigDecimal::from(units) / BigDecimal::from(days_supply);
            base_mg_per_day * factors.me_factor.as_ref()?
        }
    };
    Some(value.with_scale_round(4, RoundingMode::HalfUp))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    #[test]
    fn oral_morphine_is_base_mg_per_day() {
        // 60 × 10 mg over 10 days = 60 mg/day × 1.0.
        let f = MmeFactors { base_mg_per_unit: d("10"), me_factor: Some(d("1")), delivery_mcg_per_hour: None, transdermal_mme_per_mcg_h: None };
        assert_eq!(daily_mme(&f, 60, 10), Some(d("60")));
        // Oxycodone 5 mg × 30 over 7 days × 1.5 = 32.1429 MME/day.
        let oxy =
            MmeFactors { base_mg_per_unit: d("4.482"), me_factor: Some(d("1.5")), delivery_mcg_per_hour: None, transdermal_mme_per_mcg_h: None };
        assert_eq!(daily_mme(&oxy, 30, 7), Some(d("28.8129")));
    }

    #[test]
    fn patches_use_the_delivery_rate() {
        let f = MmeFactors {
            base_mg_per_unit: d("4.125"),
            me_factor: Some(d("100")),
            delivery_mcg_per_hour: Some(d("25")),
            transdermal_mme_per_mcg_h: Some(d("2.4")),
        };
        assert_eq!(daily_mme(&f, 10, 30), Some(d("60")));
    }

    #[test]
    fn a_missing_factor_gives_no_figure() {
        let f = MmeFactors { base_mg_per_unit: d("10"), me_factor: None, delivery_mcg_per_hour: None, transdermal_mme_per_mcg_h: None };
        assert_eq!(daily_mme(&f, 10, 10), None);
        let patch =
            MmeFactors { base_mg_per_unit: d("10"), me_factor: Some(d("30")), delivery_mcg_per_hour: Some(d("10")), transdermal_mme_per_mcg_h: None };
        assert_eq!(daily_mme(&patch, 4, 28), None);
    }
}
