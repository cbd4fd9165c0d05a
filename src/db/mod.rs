//! Database access: the connection pool and its checkout, embedded migrations,
//! reference-data seeding and the private (embedded) cluster; the tables as diesel prints
//! them (`schema`) and the views declared by hand (`views_schema`); the typed ids of
//! `domain::ids` as `BigInt` values (`ids`).

pub mod embedded;
pub mod enums;
pub mod ids;
pub mod ledger;
pub mod models;
pub mod reports;
pub mod rollups;
pub mod schema;
pub mod seed;
pub mod supervisor;
pub mod views_schema;

use std::time::Duration;

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub type DbPool = Pool<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Default of `TAROZI_STATEMENT_TIMEOUT_MS`: the longest a request's statement may run.
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 30_000;
/// Default of `TAROZI_DB_CONNECT_TIMEOUT_MS`: the longest a request waits for a connection.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;

/// A pool of `size` connections to `url`. Connections are not tested on checkout (a
/// `SELECT 1` per checkout cost a round trip on every request): one that fails because the
/// server went away is marked broken by `app::run` and dropped on return, so the pool
/// recovers by itself after an outage, one 503 per stale connection. Each has
/// `statement_timeout` set from `TAROZI_STATEMENT_TIMEOUT_MS`; a request waits at most
/// `TAROZI_DB_CONNECT_TIMEOUT_MS` for a connection before it is answered 503.
pub fn pool(url: &str, size: u32) -> anyhow::Result<DbPool> {
    let statement_timeout_ms = env_ms("TAROZI_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS, 0)?;
    let connect_timeout_ms = env_ms("TAROZI_DB_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT_MS, 1)?;
    Ok(Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_millis(connect_timeout_ms))
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings { statement_timeout_ms }))
        .error_handler(Box::new(ConnectErrors))
        .build(ConnectionManager::<PgConnection>::new(url))?)
}

/// A millisecond count from the environment (`default` when unset or empty), at least `min`.
fn env_ms(name: &str, default: u64, min: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
            Ok(ms) if ms >= min => Ok(ms),
            _ => anyhow::bail!("{name} must be a whole number of milliseconds, at least {min} (got {v:?})"),
        },
        _ => Ok(default),
    }
}

/// Failed connection attempts of the pool (it keeps trying in the background): a warning
/// each, unless the supervisor already reported the cluster down and is restarting it.
#[derive(Debug)]
struct ConnectErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for ConnectErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        if supervisor::database_down() {
            tracing::debug!(error = %error, "database connection failed while the cluster restarts");
        } else {
            tracing::warn!(error = %error, "database connection failed");
        }
    }
}

/// Session settings every pooled connection gets when it is opened.
#[derive(Debug)]
struct SessionSettings {
    /// 0: no limit.
    statement_timeout_ms: u64,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // Long scans lift it for their own transaction (`SET LOCAL statement_timeout = 0`).
        conn.batch_execute(&format!("SET statement_timeout = {}", self.statement_timeout_ms)).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Applies pending migrations, then makes sure the shipped reference data is present.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    seed::reference_data(conn)?;
    crate::rules::seed(conn)?;
    Ok(())
}

/// No connection could be had: the pool timed out, or the supervisor reports the cluster down.
#[derive(Debug, Clone, Copy)]
pub struct Unavailable;

/// A pooled connection, waiting at most the pool's connection timeout, and no longer once
/// the supervisor reports the cluster down (a wait begun just before it died ends then).
pub fn checkout(pool: &DbPool) -> Result<diesel::r2d2::PooledConnection<ConnectionManager<PgConnection>>, Unavailable> {
    const LOOK: Duration = Duration::from_millis(250);
    if supervisor::database_down() {
        return Err(Unavailable);
    }
    let deadline = std::time::Instant::now() + pool.connection_timeout();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match pool.get_timeout(left.min(LOOK)) {
            Ok(conn) => return Ok(conn),
            Err(_) if supervisor::database_down() => return Err(Unavailable),
            Err(e) if left <= LOOK => {
                tracing::warn!(error = %e, "no database connection within the pool's timeout (pool exhausted or database unreachable)");
                return Err(Unavailable);
            }
            Err(_) => {}
        }
    }
}

/// Marks `conn` broken, so the pool drops it instead of handing it out again (a connection
/// whose server went away; the pool does not test connections on checkout).
pub fn discard(conn: &mut PgConnection) {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
}

/// Runs a background job's database work on a pooled connection; a failed job's connection
/// is discarded (it may be one an outage left dead, which the pool does not test).
pub fn run_job<T>(pool: &DbPool, f: impl FnOnce(&mut PgConnection) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut conn = pool.get()?;
    let result = f(&mut conn);
    if result.is_err() {
        discard(&mut conn);
    }
    result
}

/// The database the service uses: `DATABASE_URL` when set, else the private cluster under
/// `<data dir>/pg`, started now (and stopped when the returned handle is dropped).
pub fn open(data_dir: &std::path::Path) -> anyhow::Result<(Option<embedded::EmbeddedPostgres>, String)> {
    match crate::config::database_url() {
        Some(url) => Ok((None, url)),
        None => {
            let pg = embedded::EmbeddedPostgres::start(data_dir, embedded::Tuning::default())?;
            let url = pg.url().to_owned();
            Ok((Some(pg), url))
        }
    }
}
