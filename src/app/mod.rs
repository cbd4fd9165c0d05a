//! The application layer, shared by every front door (the JSON API today, the pages next):
//! each write is a command — `(connection, actor, validated input) -> Result<Outcome, _>` in
//! a module named after its use case — run by the one write frame (`frame::run`:
//! transaction, idempotency key, audit entry, refused attempts); reports are queries
//! returning domain results; `policy` says who may call what.
//!
//! Nothing here knows HTTP: controllers adapt requests to commands and results to views.

pub mod accounts;
pub mod cache;
pub mod dispensing;
pub mod diversion;
pub mod error;
pub mod estimates;
pub mod exchange;
pub mod flags;
pub mod frame;
pub mod policy;
pub mod reference;
pub mod regional;
pub mod stock;
pub mod supply;

use diesel::PgConnection;

use crate::app::error::{AppError, AppResult};
use crate::db::DbPool;

/// Runs `f` with a pooled connection on the blocking thread pool, inside the caller's span.
/// A connection `f` found lost is not returned to the pool.
pub async fn run<T, F>(pool: &DbPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    let context = crate::observability::RequestContext::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let mut conn = crate::db::checkout(&pool)?;
        let result = match context {
            // Errors rendered inside the closure still carry the request id.
            Some(c) => crate::observability::with_context(c, || f(&mut conn)),
            None => f(&mut conn),
        };
        if result.as_ref().is_err_and(AppError::is_database_unavailable) {
            crate::db::discard(&mut conn);
        }
        result
    })
    .await
    .map_err(AppError::from)?
}
