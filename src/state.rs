//! `AppState`: what every handler and extractor shares — the pool, the settings, the token
//! keys and the login limiter.

use crate::analytics::availability::AvailabilityReport;
use crate::app::cache::ReportCache;
use crate::auth::jwt::TokenKeys;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::db::DbPool;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub tokens: TokenKeys,
    pub login_limiter: LoginLimiter,
    /// Availability reports by request and day, for the write generation they were made at.
    pub availability_reports: ReportCache<String, AvailabilityReport>,
}

impl AppState {
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        let tokens = TokenKeys::new(&settings.jwt_secret);
        crate::app::frame::set_retention_days(settings.ops.idempotency_retention_days);
        AppState { pool, settings, tokens, login_limiter: LoginLimiter::default(), availability_reports: ReportCache::default() }
    }
}
