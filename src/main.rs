//! The `tarozi` command line: `serve`, `migrate`, `seed-demo`, `openapi`, and with the
//! `bench` feature `bench-*`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};

use tarozi::config::{self, Settings};
use tarozi::db;
use tarozi::startup::{Application, Shared, bootstrap_admin};
use tarozi::state::AppState;

#[derive(Parser)]
#[command(name = "tarozi", version, about = "Opioid analgesic availability and diversion monitoring")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (migrations run at start).
    Serve {
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "TAROZI_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Data folder: the embedded cluster (without DATABASE_URL) and generated secrets.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Load demonstration data before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and the shipped reference data, then exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Load demonstration data, then exit.
    SeedDemo {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the OpenAPI document (identical to `/openapi.json`).
    Openapi,
    /// Benchmark: dispensing through the HTTP batch endpoint against raw COPY.
    #[cfg(feature = "bench")]
    BenchIngest {
        /// Records to ingest.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Records per request (at most 10 000).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        #[arg(long, default_value_t = 100)]
        pharmacies: usize,
        #[arg(long, default_value_t = 200_000)]
        patients: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 2)]
        in_flight: usize,
    },
    /// Benchmark: availability from the aggregates against raw rows, and diversion scans.
    #[cfg(feature = "bench")]
    BenchAnalytics {
        #[arg(long, default_value_t = 10_000_000)]
        records: usize,
        #[arg(long, default_value_t = 1_000)]
        pharmacies: usize,
        /// The (complete) year the records fall in.
        #[arg(long, default_value_t = 2025)]
        year: i32,
        /// Timed runs of the report from the aggregates.
        #[arg(long, default_value_t = 30)]
        report_runs: usize,
        /// Keep the loaded database (its folder is printed) for `--reuse`.
        #[arg(long)]
        keep: bool,
        /// Measure on the database a `--keep` run left in this folder instead of loading.
        #[arg(long)]
        reuse: Option<PathBuf>,
    },
    /// Benchmark: single-record dispensing POSTs and availability reads under load, beside a bare handler.
    #[cfg(feature = "bench")]
    BenchHttp {
        /// Keep-alive connections, one request in flight on each.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Measured seconds per phase.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        #[arg(long, default_value_t = 100)]
        pharmacies: usize,
        /// Dispensing records of the preloaded year (last year unless --year).
        #[arg(long, default_value_t = 300_000)]
        preload: usize,
        #[arg(long)]
        year: Option<i32>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            print!("{}", tarozi::openapi::spec_json());
            Ok(())
        }
        Command::Migrate { data_dir } => {
            tarozi::observability::init_logging(config::log_format_text());
            let data_dir = config::data_dir(data_dir);
            let (_cluster, url) = db::open(&data_dir)?;
            let mut conn = PgConnection::establish(&url).context("connecting to the database")?;
            db::migrate(&mut conn)?;
            println!("migrations applied");
            Ok(())
        }
        #[cfg(feature = "bench")]
        Command::BenchIngest { records, batch, pharmacies, patients, in_flight } => {
            tarozi::observability::init_logging(true);
            tarozi::bench::ingest::run(tarozi::bench::ingest::IngestOptions { records, batch, pharmacies, patients, in_flight })
        }
        #[cfg(feature = "bench")]
        Command::BenchAnalytics { records, pharmacies, year, report_runs, keep, reuse } => {
            tarozi::observability::init_logging(true);
            tarozi::bench::analytics::run(tarozi::bench::analytics::AnalyticsOptions { records, pharmacies, year, report_runs, keep, reuse })
        }
        #[cfg(feature = "bench")]
        Command::BenchHttp { connections, seconds, pharmacies, preload, year } => {
            tarozi::observability::init_logging(true);
            let defaults = tarozi::bench::http::HttpOptions::default();
            let year = year.unwrap_or(defaults.year);
            tarozi::bench::http::run(tarozi::bench::http::HttpOptions { connections, seconds, pharmacies, preload, year })
        }
        Command::SeedDemo { .. } => anyhow::bail!("seed-demo is not yet available"),
        Command::Serve { bind, data_dir, demo } => {
            if demo {
                anyhow::bail!("--demo is not yet available");
            }
            tarozi::observability::init_logging(config::log_format_text());
            serve(&bind, config::data_dir(data_dir))
        }
    }
}

fn serve(bind: &str, data_dir: PathBuf) -> anyhow::Result<()> {
    // The embedded cluster is started from this (main) thread, which lives until exit: the
    // cluster is told to shut down when it ends, so it is never orphaned. Restarts happen on
    // the supervisor's thread, which lives until `serve` stops it.
    let (cluster, url) = db::open(&data_dir)?;
    // From here on a supervisor thread owns the private cluster and restarts it if it dies.
    let supervisor = cluster.map(db::supervisor::Supervisor::start).transpose()?;
    let settings = Settings::from_env(&data_dir)?;
    let mut conn = PgConnection::establish(&url).context("connecting to the database")?;
    db::migrate(&mut conn)?;
    if let Some(password) = bootstrap_admin(&mut conn, std::env::var("TAROZI_ADMIN_PASSWORD").ok())? {
        println!("created user `admin` with password: {password}  (shown once; set TAROZI_ADMIN_PASSWORD to choose it)");
    }
    drop(conn);
    let pool = db::pool(&url, config::pool_size()?)?;
    let scan_hours = config::scan_interval_hours()?;
    let grace = settings.reporting_grace_days;
    let retention_days = settings.ops.idempotency_retention_days;
    let shared = Shared::new(AppState::new(pool.clone(), settings));
    let workers = config::workers()?;
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(shared, bind, workers)?;
        tarozi::startup::spawn_maintenance(pool.clone(), retention_days);
        if scan_hours > 0 {
            tarozi::startup::spawn_scheduled_scans(pool, std::time::Duration::from_secs(scan_hours * 3600), grace);
        }
        let host = bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
        println!("listening on http://{host}:{}  (API docs at /docs)", app.port());
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    if let Some(supervisor) = supervisor {
        supervisor.stop();
    }
    result
}
