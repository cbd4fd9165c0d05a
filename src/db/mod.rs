//! Database access: the connection pool, the one `run` helper every handler uses,
//! embedded migrations, reference-data seeding and the private (embedded) cluster.

pub mod dispensing_batch;
pub mod embedded;
pub mod enums;
pub mod ledger;
pub mod models;
pub mod reports;
pub mod rollups;
pub mod schema;
pub mod seed;
pub mod supervisor;

use std::time::Duration;

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};

pub type DbPool = Pool<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of `size` connections to `url`.
pub fn pool(url: &str, size: u32) -> anyhow::Result<DbPool> {
    Ok(Pool::builder().max_size(size).connection_timeout(Duration::from_secs(10)).build(ConnectionManager::<PgConnection>::new(url))?)
}

/// Applies pending migrations, then makes sure the shipped reference data is present.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    seed::reference_data(conn)?;
    crate::rules::seed(conn)?;
    Ok(())
}

/// Runs `f` with a pooled connection on the blocking thread pool, inside the caller's span.
pub async fn run<T, F>(pool: &DbPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    if supervisor::database_down() {
        // The supervisor is restarting the cluster: answer now rather than wait on the pool.
        return Err(crate::error::unavailable().into());
    }
    let pool = pool.clone();
    let span = tracing::Span::current();
    let context = crate::observability::RequestContext::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let mut conn = pool.get()?;
        match context {
            // Errors rendered inside the closure still carry the request id.
            Some(c) => crate::observability::with_context(c, || f(&mut conn)),
            None => f(&mut conn),
        }
    })
    .await
    .map_err(AppError::from)?
}

/// The database the service uses: `DATABASE_URL` when set, else the private cluster under
/// `<data dir>/pg`, started now (and stopped when the returned handle is dropped).
pub fn open(data_dir: &std::path::Path) -> anyhow::Result<(Option<embedded::EmbeddedPostgres>, String)> {
    match crate::config::database_url() {
        Some(url) => Ok((None, url)),
        None => {
            let pg = embedded::EmbeddedPostgres::start(data_dir, embedded::Durability::default())?;
            let url = pg.url().to_owned();
            Ok((Some(pg), url))
        }
    }
}
