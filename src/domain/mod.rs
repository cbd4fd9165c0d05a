//! Pure types and rules: typed ids (one per table key), exact quantities, ledger arithmetic,
//! patient pseudonyms, metric formulas, diversion rules. No diesel, no actix: unit- and
//! property-tested.

pub mod authorization;
pub mod availability;
pub mod decimal;
pub mod estimates;
pub mod forecast;
pub mod format;
pub mod ids;
pub mod ledger;
pub mod mme;
pub mod peers;
pub mod period;
pub mod pseudonym;
pub mod quantities;
pub mod stats;
pub mod suppression;
