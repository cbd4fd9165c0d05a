//! Settings from the environment. Every variable, its meaning and its default:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | unset | PostgreSQL to use; unset: a private cluster under `<data dir>/pg` |
//! | `TAROZI_DATA_DIR` | `./tarozi-data` | data folder (embedded cluster, generated secrets) |
//! | `TAROZI_BIND` | `127.0.0.1:8080` | address `serve` listens on |
//! | `TAROZI_JWT_SECRET` | generated once into `<data dir>/jwt-secret` | HS256 signing key (≥ 32 bytes) |
//! | `TAROZI_PSEUDONYM_KEY` | generated once into `<data dir>/pseudonym-key` | HMAC key for patient pseudonyms (≥ 32 bytes) |
//! | `TAROZI_ADMIN_PASSWORD` | generated and printed once | password of the first `admin` user |
//! | `TAROZI_TOKEN_TTL_SECONDS` | `900` | access-token lifetime |
//! | `TAROZI_BACKDATE_DAYS` | `30` | how far back a stock event or dispensing may be dated |
//! | `TAROZI_REPORTING_GRACE_DAYS` | `10` | days after a month's end before an open period is late |
//! | `TAROZI_DB_POOL_SIZE` | `16` | database connections per instance |
//! | `TAROZI_SCAN_INTERVAL_HOURS` | `24` | how often `serve` scans the previous day of every country; `0` turns it off |
//! | `TAROZI_TRUSTED_PROXIES` | none | comma-separated proxy addresses/CIDRs whose `X-Forwarded-For` names the client |
//! | `TAROZI_WORKERS` | number of cores | HTTP worker threads |
//! | `TAROZI_LOG` | `info` | log filter (tracing `EnvFilter` syntax) |
//! | `TAROZI_LOG_FORMAT` | `json` | `json` or `text` |

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Secrets and policy the running service needs; built once at start-up.
#[derive(Clone)]
pub struct Settings {
    pub jwt_secret: Vec<u8>,
    pub pseudonym_key: Vec<u8>,
    pub token_ttl_seconds: i64,
    pub backdate_days: i64,
    pub reporting_grace_days: i64,
    pub trusted_proxies: crate::auth::client_addr::TrustedProxies,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("backdate_days", &self.backdate_days)
            .field("reporting_grace_days", &self.reporting_grace_days)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the environment; secrets not given there are generated once into `data_dir`.
    pub fn from_env(data_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            jwt_secret: secret("TAROZI_JWT_SECRET", &data_dir.join("jwt-secret"))?,
            pseudonym_key: secret("TAROZI_PSEUDONYM_KEY", &data_dir.join("pseudonym-key"))?,
            token_ttl_seconds: number("TAROZI_TOKEN_TTL_SECONDS", 900)?,
            backdate_days: number("TAROZI_BACKDATE_DAYS", 30)?,
            reporting_grace_days: number("TAROZI_REPORTING_GRACE_DAYS", 10)?,
            trusted_proxies: crate::auth::client_addr::TrustedProxies::from_env()?,
        })
    }
}

pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("TAROZI_DATA_DIR").map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("tarozi-data"))
}

pub fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL").ok().filter(|s| !s.trim().is_empty())
}

pub fn pool_size() -> anyhow::Result<u32> {
    number("TAROZI_DB_POOL_SIZE", 16)
}

pub fn scan_interval_hours() -> anyhow::Result<u64> {
    number("TAROZI_SCAN_INTERVAL_HOURS", 24)
}

pub fn workers() -> anyhow::Result<usize> {
    number("TAROZI_WORKERS", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
}

pub fn log_format_text() -> bool {
    std::env::var("TAROZI_LOG_FORMAT").map(|v| v.eq_ignore_ascii_case("text")).unwrap_or(false)
}

pub fn number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| anyhow::anyhow!("{name} must be a number, got {v:?}")),
        _ => Ok(default),
    }
}

/// A secret from the environment, or else from `file`, generating it (mode 600) the first time.
fn secret(name: &str, file: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(v) = std::env::var(name) {
        if v.len() < 32 {
            bail!("{name} must be at least 32 characters");
        }
        return Ok(v.into_bytes());
    }
    if file.exists() {
        let v = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(v.trim().as_bytes().to_vec());
    }
    let value = random_hex(32);
    write_private_file(file, &value)?;
    Ok(value.into_bytes())
}

/// `bytes` random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::Rng::fill(&mut rand::rng(), buf.as_mut_slice());
    hex::encode(buf)
}

/// Writes `contents` to a new file readable only by its owner.
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut f =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}
