//! INCB estimates: the grams of base a country may consume of a substance in a year (the
//! annual estimate plus supplementary ones), against which imports are authorized.

pub mod create_estimate;
