//! HTTP tests: every test runs against a real server and its own database.

mod auth;
mod binary;
mod errors;
mod facilities;
mod helpers;
mod idempotency;
mod operations;
mod reference;
mod scope;
mod users;
