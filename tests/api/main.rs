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
mod idempotency_retention;
mod import_authorizations;
mod operations;
mod ops_cors;
mod ops_limits;
mod ops_methods;
mod ops_metrics;
mod reference;
mod rules_a;
mod rules_b;
mod scans_background;
mod scope;
mod stock;
mod transfers;
mod users;
