//! Tarozi: opioid analgesic availability and diversion monitoring for national drug
//! regulators and ministries of health.

/// Availability analytics and INCB reports.
pub mod analytics;
/// The application layer: commands, queries, the write frame and the authorization policy.
pub mod app;
/// Authentication (argon2id, JWT) and the `Caller` scope checks.
pub mod auth;
/// `tarozi bench-*`: benchmarks that print their figures. Compiled only with the `bench`
/// feature (`cargo run --release --features bench -- bench-…`); no server path uses it.
#[cfg(feature = "bench")]
pub mod bench;
/// Settings from the environment.
pub mod config;
/// HTTP handlers, one module per resource.
pub mod controllers;
/// Connection pool, migrations, models, seeding, the embedded cluster.
pub mod db;
/// The demo world (`tarozi seed-demo`, `tarozi serve --demo`): a synthetic Central Asia
/// written through the application layer's commands.
pub mod demo;
/// Pure domain types and rules.
pub mod domain;
/// `AppError` and RFC 9457 problem documents.
pub mod error;
/// The regional exchange: signed aggregate packages, their schema and the push client.
pub mod exchange;
/// Body and query extractors reporting field-level problems.
pub mod extract;
/// 405 with `Allow` or 404 for requests no route takes.
pub mod fallback;
/// Idempotent writes keyed by `Idempotency-Key`.
pub mod idempotency;
/// Request ids, logs, metrics.
pub mod observability;
/// The OpenAPI document.
pub mod openapi;
/// The document's operations by method and path template.
pub mod operations;
/// The dashboard: server-rendered pages under `/dashboard`, in the users' languages.
pub mod pages;
/// Route registration.
pub mod router;
/// The rule engine: availability findings and diversion signals, scans.
pub mod rules;
/// Building and running the HTTP application.
pub mod startup;
/// `AppState`, shared by handlers and extractors.
pub mod state;
/// JSON wire types.
pub mod views;
