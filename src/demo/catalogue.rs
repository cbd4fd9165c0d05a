//! The demo's products: what Central Asian pharmacies and hospital pharmacies dispense, each
//! with its labelled strength and salt (the base content is the labelled strength times the
//! substance's salt-to-base factor of `reference/substances.csv`), and how a course of each
//! is prescribed (units a day, days a fill covers), so the generated dispensing looks like
//! practice.

use crate::db::enums::{DosageForm, Unit};

pub const PRODUCT_COUNT: usize = 7;

/// One product and how it is prescribed.
pub struct ProductSpec {
    pub name: &'static str,
    pub inn: &'static str,
    /// mg of base per unit (labelled strength × salt-to-base factor, exact).
    pub base_mg: &'static str,
    /// The labelled strength and its salt.
    pub strength_mg: &'static str,
    pub salt: &'static str,
    pub form: DosageForm,
    pub unit: Unit,
    /// A patch's delivery rate, mcg/h.
    pub delivery_mcg_per_hour: Option<&'static str>,
    /// Units a day: from, to (inclusive).
    pub units_per_day: (i64, i64),
    /// Days one fill covers (one is drawn per course).
    pub fill_days: &'static [i32],
    /// Units a day are divided by this (a patch lasts three days; a bottle several).
    pub days_per_unit: i64,
    /// Weight of the product in courses at a hospital pharmacy relative to a pharmacy.
    pub hospital_weight: u32,
    /// The country imports come from (ISO 3166-1 alpha-2).
    pub exporter: &'static str,
}

pub const PRODUCTS: [ProductSpec; PRODUCT_COUNT] = [
    ProductSpec {
        name: "Morphine sulfate 30 mg prolonged-release tablet (demo)",
        inn: "morphine",
        base_mg: "22.563",
        strength_mg: "30",
        salt: "morphine sulfate pentahydrate",
        form: DosageForm::Tablet,
        unit: Unit::Tablet,
        delivery_mcg_per_hour: None,
        units_per_day: (1, 3),
        fill_days: &[10, 14, 30],
        days_per_unit: 1,
        hospital_weight: 1,
        exporter: "IN",
    },
    ProductSpec {
        name: "Morphine hydrochloride 10 mg/ml 1 ml ampoule (demo)",
        inn: "morphine",
        base_mg: "7.592",
        strength_mg: "10",
        salt: "morphine hydrochloride trihydrate",
        form: DosageForm::Injection,
        unit: Unit::Ampoule,
        delivery_mcg_per_hour: None,
        units_per_day: (2, 4),
        fill_days: &[3, 5],
        days_per_unit: 1,
        hospital_weight: 4,
        exporter: "RU",
    },
    ProductSpec {
        name: "Morphine sulfate oral solution 2 mg/ml, 100 ml bottle (demo)",
        inn: "morphine",
        base_mg: "150.42",
        strength_mg: "200",
        salt: "morphine sulfate pentahydrate",
        form: DosageForm::OralSolution,
        unit: Unit::Bottle,
        delivery_mcg_per_hour: None,
        units_per_day: (1, 1),
        fill_days: &[7, 14],
        days_per_unit: 7,
        hospital_weight: 1,
        exporter: "IN",
    },
    ProductSpec {
        name: "Trimeperidine hydrochloride 20 mg/ml 1 ml ampoule (promedol, demo)",
        inn: "trimeperidine",
        base_mg: "17.662",
        strength_mg: "20",
        salt: "trimeperidine hydrochloride",
        form: DosageForm::Injection,
        unit: Unit::Ampoule,
        delivery_mcg_per_hour: None,
        units_per_day: (2, 3),
        fill_days: &[3, 5],
        days_per_unit: 1,
        hospital_weight: 4,
        exporter: "RU",
    },
    ProductSpec {
        name: "Fentanyl 25 mcg/h transdermal patch (demo)",
        inn: "fentanyl",
        base_mg: "4.2",
        strength_mg: "4.2",
        salt: "base",
        form: DosageForm::TransdermalPatch,
        unit: Unit::Patch,
        delivery_mcg_per_hour: Some("25"),
        units_per_day: (1, 1),
        fill_days: &[15, 30],
        days_per_unit: 3,
        hospital_weight: 1,
        exporter: "BE",
    },
    ProductSpec {
        name: "Fentanyl 50 mcg/h transdermal patch (demo)",
        inn: "fentanyl",
        base_mg: "8.4",
        strength_mg: "8.4",
        salt: "base",
        form: DosageForm::TransdermalPatch,
        unit: Unit::Patch,
        delivery_mcg_per_hour: Some("50"),
        units_per_day: (1, 1),
        fill_days: &[15, 30],
        days_per_unit: 3,
        hospital_weight: 1,
        exporter: "BE",
    },
    ProductSpec {
        name: "Tramadol hydrochloride 50 mg capsule (demo)",
        inn: "tramadol",
        base_mg: "43.92",
        strength_mg: "50",
        salt: "tramadol hydrochloride",
        form: DosageForm::Capsule,
        unit: Unit::Capsule,
        delivery_mcg_per_hour: None,
        units_per_day: (2, 4),
        fill_days: &[5, 10],
        days_per_unit: 1,
        hospital_weight: 1,
        exporter: "IN",
    },
];

/// Index of the morphine tablet (the stories' product).
pub const MORPHINE_TABLET: usize = 0;
/// Index of the 25 mcg/h fentanyl patch.
pub const FENTANYL_25: usize = 4;

impl ProductSpec {
    /// Units one fill of `days` at `per_day` units a day takes.
    pub fn units(&self, per_day: i64, days: i32) -> i64 {
        (per_day * i64::from(days) + self.days_per_unit - 1) / self.days_per_unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn a_labelled_base_strength_equals_the_base_content() {
        for p in &PRODUCTS {
            if p.salt == "base" {
                assert_eq!(p.base_mg, p.strength_mg, "{}", p.name);
            }
            assert!(bigdecimal::BigDecimal::from_str(p.base_mg).is_ok());
        }
        assert_eq!(PRODUCTS[FENTANYL_25].units(1, 30), 10);
        assert_eq!(PRODUCTS[MORPHINE_TABLET].units(2, 14), 28);
    }
}
