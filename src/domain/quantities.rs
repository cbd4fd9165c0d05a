//! Exact quantity conversions: units to base milligrams and grams.

use bigdecimal::BigDecimal;

/// Base mass in mg of `units` units holding `mg_per_unit` mg each.
pub fn base_mg(units: i64, mg_per_unit: &BigDecimal) -> BigDecimal {
    mg_per_unit * BigDecimal::from(units)
}

/// Base mass in g of `units` units holding `mg_per_unit` mg each.
pub fn base_g(units: i64, mg_per_unit: &BigDecimal) -> BigDecimal {
    (base_mg(units, mg_per_unit) / BigDecimal::from(1000)).normalized()
}

/// Whole units of `mg_per_unit` that fit into `grams` (rounded down).
pub fn units_within(grams: &BigDecimal, mg_per_unit: &BigDecimal) -> i64 {
    use bigdecimal::ToPrimitive;
    if mg_per_unit.sign() != bigdecimal::num_bigint::Sign::Plus || grams.sign() != bigdecimal::num_bigint::Sign::Plus {
        return 0;
    }
    let units = (grams * BigDecimal::from(1000)) / mg_per_unit;
    units.with_scale_round(0, bigdecimal::RoundingMode::Down).to_i64().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn sub_milligram_contents_stay_exact() {
        let patch = BigDecimal::from_str("2.0625").unwrap();
        assert_eq!(base_mg(3, &patch).to_string(), "6.1875");
        assert_eq!(base_g(1000, &patch).to_string(), "2.0625");
        let tiny = BigDecimal::from_str("0.000001").unwrap();
        assert_eq!(base_g(1, &tiny), BigDecimal::from_str("0.000000001").unwrap());
    }

    #[test]
    fn units_within_rounds_down() {
        let ten = BigDecimal::from(10);
        assert_eq!(units_within(&BigDecimal::from_str("0.1").unwrap(), &ten), 10);
        assert_eq!(units_within(&BigDecimal::from_str("0.0999").unwrap(), &ten), 9);
        assert_eq!(units_within(&BigDecimal::from(0), &ten), 0);
    }

    proptest! {
        #[test]
        fn grams_and_units_agree(units in 0i64..10_000_000, micro_mg in 1i64..100_000_000) {
            let per_unit = BigDecimal::new(micro_mg.into(), 6);
            let grams = base_g(units, &per_unit);
            prop_assert_eq!(units_within(&grams, &per_unit), units);
            prop_assert_eq!(grams * BigDecimal::from(1000), base_mg(units, &per_unit));
        }
    }
}
