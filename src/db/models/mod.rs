//! Write models: one file per table, queries as associated functions of the row type.

pub mod audit_event;
pub mod country;
pub mod facility;
pub mod idempotency_key;
pub mod product;
pub mod region;
pub mod substance;
pub mod user;
