//! Pure types and rules: exact quantities, ledger arithmetic, metric formulas, diversion
//! rules. No diesel, no actix: unit- and property-tested.

pub mod decimal;
pub mod ledger;
pub mod quantities;
