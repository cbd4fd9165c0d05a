//! INCB estimates: the grams of base a country may consume of a substance in a year (the
//! annual estimate plus supplementary ones), against which imports are authorized; and the
//! deaths by cause the morbidity-based estimate proposal starts from.

pub mod create_estimate;
pub mod put_deaths;
