//! Write models: one file per table, queries as associated functions of the row type.

pub mod analytics_parameter;
pub mod api_key;
pub mod audit_event;
pub mod country;
pub mod deaths;
pub mod dispensing;
pub mod estimate;
pub mod exchange;
pub mod export_authorization;
pub mod facility;
pub mod flag;
pub mod idempotency_key;
pub mod import_authorization;
pub mod inventory_count;
pub mod product;
pub mod refused_attempt;
pub mod region;
pub mod reporting_period;
pub mod rule;
pub mod scan;
pub mod stock_balance;
pub mod stock_event;
pub mod substance;
pub mod transfer;
pub mod user;
pub mod user_preference;
