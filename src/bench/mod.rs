//! Benchmarks run as `tarozi bench-*` commands: each builds its own private PostgreSQL
//! cluster in a temporary folder, loads realistic data, measures side by side in one run and
//! prints its figures and their ratios.
//!
//! This module tree (the commands, their fixtures and data generators) is compiled only with
//! the `bench` cargo feature, off by default: `cargo run --release --features bench --
//! bench-http`. The server never links it into request handling; nothing outside
//! `src/bench/` and the `bench-*` arms of `src/main.rs` refers to it.

pub mod analytics;
pub mod bare;
pub mod fixtures;
pub mod http;
pub mod ingest;
pub mod pages;
pub mod statements;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::auth::jwt::{AUDIENCE, Claims, ISSUER, TokenKeys};
use crate::db::embedded::{EmbeddedPostgres, Tuning};
use crate::db::enums::Role;
use crate::domain::ids::{FacilityId, UserId};

pub const BENCH_JWT_SECRET: &str = "bench-jwt-secret-bench-jwt-secret-0123456789";
pub const BENCH_PSEUDONYM_KEY: &str = "bench-pseudonym-key-bench-pseudonym-key-0123";

/// A private cluster in a temporary folder, removed when dropped unless kept.
pub struct BenchDatabase {
    pub cluster: EmbeddedPostgres,
    pub folder: PathBuf,
    pub keep: bool,
}

impl BenchDatabase {
    /// Starts a fresh cluster (PostgreSQL's durable defaults, `pg_stat_statements` loaded)
    /// and migrates it.
    pub fn start() -> anyhow::Result<Self> {
        let folder = std::env::temp_dir().join(format!("tarozi-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let cluster = EmbeddedPostgres::start(&folder.join("data"), Tuning { statement_stats: true, ..Default::default() })?;
        let mut conn = diesel::Connection::establish(cluster.url())?;
        crate::db::migrate(&mut conn)?;
        Ok(BenchDatabase { cluster, folder, keep: false })
    }

    /// Starts the cluster of an earlier run kept with `--keep`, as it was.
    pub fn reuse(folder: &Path) -> anyhow::Result<Self> {
        let cluster = EmbeddedPostgres::start(&folder.join("data"), Tuning { statement_stats: true, ..Default::default() })?;
        Ok(BenchDatabase { cluster, folder: folder.to_owned(), keep: true })
    }

    pub fn url(&self) -> &str {
        self.cluster.url()
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        self.cluster.stop();
        if self.keep {
            println!("the benchmark database is kept in {} (reuse it with --reuse)", self.folder.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }
}

/// `tarozi serve` as a child process on a free loopback port, against `database_url`.
pub struct ServerProcess {
    child: Child,
    pub address: String,
}

impl ServerProcess {
    /// `tarozi serve` on the database at `database_url`.
    pub fn spawn(database_url: &str, folder: &Path) -> anyhow::Result<Self> {
        let data_dir = folder.join("server");
        Self::start(&["serve", "--bind", "127.0.0.1:0", "--data-dir", &data_dir.to_string_lossy()], database_url)
    }

    /// The bare reference handler (`bench::bare`) on the database at `database_url`.
    pub fn spawn_bare(database_url: &str) -> anyhow::Result<Self> {
        Self::start(&["bench-bare-server", "--bind", "127.0.0.1:0"], database_url)
    }

    fn start(args: &[&str], database_url: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the tarozi binary")?;
        let mut child = Command::new(exe)
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("TAROZI_JWT_SECRET", BENCH_JWT_SECRET)
            .env("TAROZI_PSEUDONYM_KEY", BENCH_PSEUDONYM_KEY)
            .env("TAROZI_ADMIN_PASSWORD", "bench-admin-password")
            .env("TAROZI_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => Ok(ServerProcess { child, address }),
            Err(_) => {
                let _ = child.kill();
                bail!("the server did not start")
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory of the server so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Rows per second, thousands-separated.
pub fn rate(rows: usize, seconds: f64) -> String {
    let r = (rows as f64 / seconds).round() as u64;
    let s = r.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A day-long token for a benchmark user, signed with the server's key (no login).
pub(crate) fn token(keys: &TokenKeys, user_id: UserId, role: Role, country: &str, facility: Option<FacilityId>) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    keys.issue(&Claims {
        sub: user_id.to_string(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + 86_400,
        role,
        country: Some(country.to_owned()),
        facility,
    })
}
