//! HTTP tests: every test runs against a real server and its own database.

mod analytics;
mod auth;
mod binary;
mod dispensings;
mod errors;
mod estimates;
mod facilities;
mod findings;
mod flags;
mod helpers;
mod idempotency;
mod import_authorizations;
mod ledger_properties;
mod operations;
mod reference;
mod rules_a;
mod rules_b;
mod scope;
mod stock;
mod transfers;
mod users;
