//! The `tarozi` command line: `serve`, `migrate`, `seed-demo`, `openapi`, `exchange
//! public-key|push`, and with the `bench` feature `bench-*`.

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
        /// Seed the synthetic demo world first when the database is empty (a database that
        /// holds data is left as it is).
        #[arg(long)]
        demo: bool,
        /// The demo world's scale (with --demo).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Act as the regional exchange hub (also `TAROZI_HUB=1`).
        #[arg(long)]
        hub: bool,
    },
    /// The regional exchange: this instance's public key, pushing a month to the hub.
    Exchange {
        #[command(subcommand)]
        command: ExchangeCommand,
    },
    /// Apply database migrations and the shipped reference data, then exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Seed the synthetic demo world into an empty database, then exit.
    SeedDemo {
        /// Volume: 1 is about 250 dispensing facilities and 150 000 dispensings over two
        /// years; below 1 fewer facilities, above 1 more patients per facility.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
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
    /// The bare reference handler `bench-http` measures beside the API (run by it).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    BenchBareServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: String,
    },
    /// Benchmark: every dashboard page on the demo world, p50/p95 per page.
    #[cfg(feature = "bench")]
    BenchPages {
        /// The demo world's scale.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Measured requests per page.
        #[arg(long, default_value_t = 30)]
        requests: usize,
        /// Keep the seeded database (its folder is printed) for `--reuse`.
        #[arg(long)]
        keep: bool,
        /// Measure on the database a `--keep` run left in this folder instead of seeding.
        #[arg(long)]
        reuse: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExchangeCommand {
    /// Print this instance's Ed25519 public key (generated into the data folder the first
    /// time), for the hub's admin to register.
    PublicKey {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Build, sign and send one month's package to the hub, retrying with back-off.
    Push {
        /// The hub's base URL.
        #[arg(long, env = "TAROZI_EXCHANGE_HUB_URL")]
        hub: String,
        /// The month, `YYYY-MM` (it must have ended).
        #[arg(long)]
        month: String,
        /// The country this instance reports for.
        #[arg(long, env = "TAROZI_EXCHANGE_COUNTRY")]
        country: String,
        /// The hub-issued `exchange` user.
        #[arg(long, env = "TAROZI_EXCHANGE_USERNAME")]
        username: String,
        /// Attempts before the push is recorded as failed.
        #[arg(long, default_value_t = 8)]
        attempts: u32,
        #[arg(long)]
        data_dir: Option<PathBuf>,
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
        #[cfg(feature = "bench")]
        Command::BenchBareServer { bind } => {
            tarozi::observability::init_logging(true);
            tarozi::bench::bare::serve(&bind)
        }
        #[cfg(feature = "bench")]
        Command::BenchPages { scale, requests, keep, reuse } => {
            tarozi::observability::init_logging(true);
            tarozi::bench::pages::run(tarozi::bench::pages::PagesOptions { scale, requests, keep, reuse })
        }
        Command::SeedDemo { scale, data_dir } => {
            tarozi::observability::init_logging(config::log_format_text());
            seed_demo(scale, config::data_dir(data_dir))
        }
        Command::Serve { bind, data_dir, demo, scale, hub } => {
            tarozi::observability::init_logging(config::log_format_text());
            serve(&bind, config::data_dir(data_dir), hub, demo.then_some(scale))
        }
        Command::Exchange { command: ExchangeCommand::PublicKey { data_dir } } => {
            let key = tarozi::exchange::signing::load_or_generate(&config::data_dir(data_dir))?;
            println!("{}", tarozi::exchange::signing::public_key_hex(&key));
            Ok(())
        }
        Command::Exchange { command: ExchangeCommand::Push { hub, month, country, username, attempts, data_dir } } => {
            tarozi::observability::init_logging(config::log_format_text());
            push_month(&hub, &month, &country, &username, attempts, config::data_dir(data_dir))
        }
    }
}

fn push_month(hub: &str, month: &str, country: &str, username: &str, attempts: u32, data_dir: PathBuf) -> anyhow::Result<()> {
    use tarozi::exchange::push::{PushOptions, push};
    let month = tarozi::domain::period::Month::parse(month).context("--month must be YYYY-MM")?;
    let password = std::env::var("TAROZI_EXCHANGE_PASSWORD").context("TAROZI_EXCHANGE_PASSWORD holds the exchange user's password")?;
    let key = tarozi::exchange::signing::load_or_generate(&data_dir)?;
    let (_cluster, url) = db::open(&data_dir)?;
    let mut conn = PgConnection::establish(&url).context("connecting to the database")?;
    db::migrate(&mut conn)?;
    drop(conn);
    let pool = db::pool(&url, 2)?;
    let settings = Settings::from_env(&data_dir)?;
    let mut options = PushOptions::new(hub, username, &password, country, month, settings.reporting_grace_days);
    options.attempts = attempts;
    let outcome = actix_web::rt::System::new().block_on(async move { push(&pool, &key, &options).await })?;
    println!(
        "push {} (sequence {}): {} after {} attempt(s){}",
        outcome.push_id,
        outcome.sequence,
        outcome.status,
        outcome.attempts,
        if outcome.replayed { " (the hub had it already)" } else { "" }
    );
    if outcome.status != tarozi::db::enums::PushStatus::Delivered {
        anyhow::bail!("the package was not delivered: {}", outcome.answer);
    }
    Ok(())
}

/// `seed-demo`: the demo world into the (empty) database of `data_dir`.
fn seed_demo(scale: f64, data_dir: PathBuf) -> anyhow::Result<()> {
    let (_cluster, url) = db::open(&data_dir)?;
    let settings = Settings::from_env(&data_dir)?;
    let mut conn = PgConnection::establish(&url).context("connecting to the database")?;
    db::migrate(&mut conn)?;
    let summary = tarozi::demo::seed(&mut conn, &demo_options(&settings, scale))?;
    print_demo(&summary);
    Ok(())
}

fn demo_options(settings: &Settings, scale: f64) -> tarozi::demo::DemoOptions {
    tarozi::demo::DemoOptions {
        scale,
        pseudonym_key: settings.pseudonym_key.clone(),
        now: chrono::Utc::now(),
        reporting_grace_days: settings.reporting_grace_days,
        verbose: true,
    }
}

fn print_demo(summary: &tarozi::demo::Summary) {
    let span = match (summary.first_month, summary.last_month) {
        (Some(a), Some(b)) => format!("{} to {}", a.label(), b.label()),
        _ => String::new(),
    };
    println!(
        "demo world (SYNTHETIC data) seeded in {:.0} s: {} regions, {} facilities, {} products, {} transfers, {} dispensings ({span}), {} flags",
        summary.seconds, summary.regions, summary.facilities, summary.products, summary.transfers, summary.dispensings, summary.flags
    );
    println!("planted stories:");
    for story in &summary.stories {
        println!("  {:<24} {} ({}): {}", story.code, story.country, story.rule, story.description);
    }
    let names: Vec<&str> = summary.users.iter().filter(|u| u.facility_id.is_none()).map(|u| u.username.as_str()).collect();
    println!(
        "demo users (password `{}` — a demo only): {} and each facility's user (kz-pharmacy-1, kz-wholesaler-1, kz-importer, …)",
        tarozi::demo::DEMO_PASSWORD,
        names.join(", ")
    );
}

fn serve(bind: &str, data_dir: PathBuf, hub: bool, demo: Option<f64>) -> anyhow::Result<()> {
    // The embedded cluster is started from this (main) thread, which lives until exit: the
    // cluster is told to shut down when it ends, so it is never orphaned. Restarts happen on
    // the supervisor's thread, which lives until `serve` stops it.
    let (cluster, url) = db::open(&data_dir)?;
    // From here on a supervisor thread owns the private cluster and restarts it if it dies.
    let supervisor = cluster.map(db::supervisor::Supervisor::start).transpose()?;
    let mut settings = Settings::from_env(&data_dir)?;
    settings.hub |= hub;
    let exchange = config::ExchangeClientSettings::from_env()?;
    let signing_key = exchange.as_ref().map(|_| tarozi::exchange::signing::load_or_generate(&data_dir)).transpose()?;
    let mut conn = PgConnection::establish(&url).context("connecting to the database")?;
    db::migrate(&mut conn)?;
    if let Some(scale) = demo {
        match tarozi::demo::seed_if_empty(&mut conn, &demo_options(&settings, scale))? {
            Some(summary) => print_demo(&summary),
            None => println!("--demo: the database already holds data; it is left as it is"),
        }
    }
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
        if let (Some(exchange), Some(key)) = (exchange, signing_key) {
            tarozi::exchange::push::spawn_scheduled_push(pool.clone(), key, exchange, grace, std::time::Duration::from_secs(6 * 3600));
        }
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
