//! HTTP handlers, one module per resource, each with a `configure` that registers its
//! routes (handler names are the OpenAPI operation ids).

pub mod analytics;
pub mod analytics_settings;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod dispensings;
pub mod estimates;
pub mod export_authorizations;
pub mod facilities;
pub mod flags;
pub mod health;
pub mod import_authorizations;
pub mod products;
pub mod regions;
pub mod reports;
pub mod rules;
pub mod stock;
pub mod substances;
pub mod transfers;
pub mod users;
