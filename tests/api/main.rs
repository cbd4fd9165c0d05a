//! HTTP tests: every test runs against a real server and its own database.

mod analytics;
mod api_keys;
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
mod operations;
mod reference;
mod rules_a;
mod rules_b;
mod scope;
mod security_login;
mod stock;
mod tokens;
mod transfers;
mod user_lifecycle;
mod users;
