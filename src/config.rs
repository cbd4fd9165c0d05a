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
//! | `TAROZI_METRICS_TOKEN` | unset | bearer token `/metrics` asks for (≥ 32 characters); unset: `/metrics` answers 404 |
//! | `TAROZI_CORS_ORIGINS` | unset | comma-separated exact origins allowed cross-origin; unset: no CORS |
//! | `TAROZI_IDEMPOTENCY_RETENTION_DAYS` | `7` | days an `Idempotency-Key` is remembered; older keys are purged |
//! | `TAROZI_HUB` | unset | `1` (or `serve --hub`): this instance is the regional exchange hub (receives packages; the regional view reads them) |
//! | `TAROZI_EXCHANGE_SIGNING_KEY` | generated once into `<data dir>/exchange-signing-key` | Ed25519 secret of this national instance, 64 hex digits |
//! | `TAROZI_EXCHANGE_HUB_URL` | unset | the hub to push packages to; set (with the three below) it also turns on the monthly scheduled push of `serve` |
//! | `TAROZI_EXCHANGE_COUNTRY` | unset | the country this national instance pushes for |
//! | `TAROZI_EXCHANGE_USERNAME` | unset | the hub-issued `exchange` user |
//! | `TAROZI_EXCHANGE_PASSWORD` | unset | its password |

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
    pub ops: OpsSettings,
    pub trusted_proxies: crate::auth::client_addr::TrustedProxies,
    /// This instance is the regional exchange hub (`TAROZI_HUB=1`).
    pub hub: bool,
}

/// Where and as whom a national instance pushes its packages (`TAROZI_EXCHANGE_*`).
#[derive(Clone)]
pub struct ExchangeClientSettings {
    pub hub_url: String,
    pub country: String,
    pub username: String,
    pub password: String,
}

impl ExchangeClientSettings {
    /// The settings when `TAROZI_EXCHANGE_HUB_URL` is set; then the other three are required.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(hub_url) = var("TAROZI_EXCHANGE_HUB_URL") else { return Ok(None) };
        let required = |name: &str| var(name).with_context(|| format!("{name} is required with TAROZI_EXCHANGE_HUB_URL"));
        Ok(Some(ExchangeClientSettings {
            hub_url,
            country: required("TAROZI_EXCHANGE_COUNTRY")?.to_ascii_uppercase(),
            username: required("TAROZI_EXCHANGE_USERNAME")?,
            password: required("TAROZI_EXCHANGE_PASSWORD")?,
        }))
    }
}

/// Whether `TAROZI_HUB` turns hub mode on (`1`, `true`, `yes`).
pub fn hub_from_env() -> bool {
    std::env::var("TAROZI_HUB").is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Operational policy of the HTTP surface: who reads `/metrics`, which origins get CORS,
/// how long idempotency keys are remembered.
#[derive(Clone)]
pub struct OpsSettings {
    /// `/metrics` is served only to `Authorization: Bearer <token>`; `None`: not served (404).
    pub metrics_token: Option<String>,
    /// Exact origins (`https://host[:port]`) granted CORS; empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    pub idempotency_retention_days: i64,
    /// `TAROZI_COOKIE_SECURE` (`true`/`1`; default off): the dashboard's session cookie is
    /// sent over HTTPS only. Turn it on whenever the dashboard is reached through TLS (a
    /// browser drops a Secure cookie on plain-HTTP localhost).
    pub cookie_secure: bool,
}

impl Default for OpsSettings {
    /// Closed: no metrics, no CORS, keys kept 7 days.
    fn default() -> Self {
        OpsSettings { metrics_token: None, cors_origins: Vec::new(), idempotency_retention_days: 7, cookie_secure: false }
    }
}

impl std::fmt::Debug for OpsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsSettings")
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<set>"))
            .field("cors_origins", &self.cors_origins)
            .field("idempotency_retention_days", &self.idempotency_retention_days)
            .field("cookie_secure", &self.cookie_secure)
            .finish()
    }
}

impl OpsSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        let metrics_token = match std::env::var("TAROZI_METRICS_TOKEN") {
            Ok(v) if v.trim().is_empty() => None,
            Ok(v) if v.trim().len() < 32 => bail!("TAROZI_METRICS_TOKEN must be at least 32 characters"),
            Ok(v) => Some(v.trim().to_owned()),
            Err(_) => None,
        };
        let cors_origins = cors_origins(&std::env::var("TAROZI_CORS_ORIGINS").unwrap_or_default())?;
        let idempotency_retention_days = number("TAROZI_IDEMPOTENCY_RETENTION_DAYS", 7)?;
        if idempotency_retention_days < 1 {
            bail!("TAROZI_IDEMPOTENCY_RETENTION_DAYS must be at least 1");
        }
        let cookie_secure = matches!(std::env::var("TAROZI_COOKIE_SECURE").unwrap_or_default().trim(), "1" | "true");
        Ok(OpsSettings { metrics_token, cors_origins, idempotency_retention_days, cookie_secure })
    }
}

/// Parses a comma-separated list of exact origins: `scheme://host[:port]`, no path, no `*`.
pub fn cors_origins(list: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let ok = rest.is_some_and(|host| !host.is_empty() && !host.contains(['/', '*', ' ', '?', '#']));
        if !ok {
            bail!("TAROZI_CORS_ORIGINS: {origin:?} is not an exact origin like https://example.org or http://localhost:3000");
        }
        out.push(origin.to_owned());
    }
    Ok(out)
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("backdate_days", &self.backdate_days)
            .field("reporting_grace_days", &self.reporting_grace_days)
            .field("ops", &self.ops)
            .field("hub", &self.hub)
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
            ops: OpsSettings::from_env()?,
            trusted_proxies: crate::auth::client_addr::TrustedProxies::from_env()?,
            hub: hub_from_env(),
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

/// Shortest secret accepted, from the environment or a file alike.
const MIN_SECRET_CHARS: usize = 32;

/// A secret from the environment, or else from `file`, generating it (mode 600) the first time.
/// Either source must hold at least `MIN_SECRET_CHARS` characters: a short or empty file
/// stops start-up instead of signing tokens with it.
fn secret(name: &str, file: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(v) = std::env::var(name) {
        if v.len() < MIN_SECRET_CHARS {
            bail!("{name} must be at least {MIN_SECRET_CHARS} characters");
        }
        return Ok(v.into_bytes());
    }
    if file.exists() {
        let v = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let v = v.trim();
        if v.len() < MIN_SECRET_CHARS {
            bail!("{} holds {} characters; a secret needs at least {MIN_SECRET_CHARS} (or set {name})", file.display(), v.len());
        }
        return Ok(v.as_bytes().to_vec());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_exact() {
        assert_eq!(cors_origins(" https://a.example , http://localhost:3000,").unwrap(), vec!["https://a.example", "http://localhost:3000"]);
        assert!(cors_origins("").unwrap().is_empty());
        for bad in ["*", "https://*.example", "a.example", "https://a.example/", "ftp://a.example", "https://"] {
            assert!(cors_origins(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_short_or_empty_secret_file_stops_start_up() {
        let dir = std::env::temp_dir().join(format!("tarozi-secret-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = "TAROZI_TEST_SECRET_NEVER_SET";
        let file = dir.join("secret");
        for (content, ok) in [(String::new(), false), ("short".to_owned(), false), ("x".repeat(31), false), ("x".repeat(32), true)] {
            std::fs::write(&file, format!("{content}\n")).unwrap();
            let result = secret(name, &file);
            assert_eq!(result.is_ok(), ok, "{content:?}: {result:?}");
            if let Err(e) = result {
                assert!(e.to_string().contains("at least 32"), "{e}");
            }
        }
        assert_eq!(secret(name, &dir.join("fresh")).unwrap().len(), 64);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
