//! The embedded default database: a private PostgreSQL cluster under `<data dir>/pg`, run
//! from the machine's server binaries, listening on loopback only, password-protected.
//!
//! The postmaster is our child process and is told by the kernel to shut down fast
//! (`PR_SET_PDEATHSIG` = SIGINT) when the thread that started it ends, so the cluster never
//! outlives the service, even when the service is killed. Start it from a thread that lives
//! as long as the cluster should (the main thread, or a parked helper thread). `restart`
//! ties the new postmaster to the thread calling it (`serve`'s supervisor thread, see
//! `db::supervisor`).

use std::ffi::CString;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::config::{random_hex, write_private_file};

const SUPERUSER: &str = "tarozi";
const DATABASE: &str = "tarozi";

/// Tuning for a cluster: the service keeps PostgreSQL's durable defaults; tests and
/// benchmarks that throw their data away may trade durability for speed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// No fsync, no synchronous commit, no full-page writes: fast, and lost in a crash.
    pub disposable: bool,
    /// Loads `pg_stat_statements` (benchmarks read what each statement cost).
    pub statement_stats: bool,
}

/// A running private cluster. Dropping it shuts the cluster down.
pub struct EmbeddedPostgres {
    child: Option<Child>,
    admin_url: String,
    url: String,
    log: PathBuf,
    bin: PathBuf,
    cluster: PathBuf,
    port: u16,
    tuning: Tuning,
    run_as: Option<RunAs>,
}

/// The uid and gid PostgreSQL runs as when we are root (it refuses to run as root).
#[derive(Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use (initdb), then starts it and makes sure the
    /// `tarozi` database exists.
    pub fn start(data_dir: &Path, tuning: Tuning) -> anyhow::Result<Self> {
        let bin = server_binaries()?;
        fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let run_as = run_as()?;
        if run_as.is_some() {
            // The postgres user must reach <data dir>/pg; secrets inside stay mode 600.
            fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o755))?;
        }
        let cluster = data_dir.join("pg");
        let password_file = data_dir.join("pg-password");
        if !cluster.join("PG_VERSION").exists() {
            init_cluster(&bin, &cluster, &password_file, run_as)?;
        }
        let password = fs::read_to_string(&password_file).with_context(|| format!("reading {}", password_file.display()))?.trim().to_owned();
        let port = free_port()?;
        let base = format!("postgres://{SUPERUSER}:{password}@127.0.0.1:{port}");
        let mut pg = EmbeddedPostgres {
            child: None,
            admin_url: format!("{base}/postgres"),
            url: format!("{base}/{DATABASE}"),
            log: data_dir.join("pg.log"),
            bin,
            cluster,
            port,
            tuning,
            run_as,
        };
        pg.spawn()?;
        pg.wait_until_ready()?;
        pg.create_database(DATABASE)?;
        Ok(pg)
    }

    /// Starts the postmaster on the cluster's port (the caller waits until it is ready).
    fn spawn(&mut self) -> anyhow::Result<()> {
        let log_file = fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        if let Some(ids) = self.run_as {
            chown(&self.log, ids)?;
        }
        let mut command = Command::new(self.bin.join("postgres"));
        command
            .arg("-D")
            .arg(&self.cluster)
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        if self.tuning.disposable {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        command.args(["-c", "max_connections=200"]);
        if self.tuning.statement_stats {
            command.args(["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all"]);
        }
        if let Some(ids) = self.run_as {
            command.uid(ids.uid).gid(ids.gid);
        }
        let parent = std::process::id();
        // SAFETY: the closure only makes async-signal-safe system calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("parent exited before postgres started"));
                }
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("starting {}", self.bin.join("postgres").display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Whether the postmaster has exited since the last look, and how. Once reported, the
    /// cluster counts as stopped until [`restart`](Self::restart).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    /// Starts a stopped cluster again on the same port, folder and password (PostgreSQL runs
    /// crash recovery first if it died), and waits until it accepts connections. The
    /// postmaster is tied to the calling thread as in [`start`](Self::start). On failure the
    /// cluster is left stopped, so the caller may simply try again.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        self.spawn()?;
        if let Err(e) = self.wait_until_ready() {
            self.stop();
            return Err(e);
        }
        Ok(())
    }

    /// The loopback port the cluster listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the `tarozi` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// URL of the maintenance database (for creating and dropping databases).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// URL of another database of this cluster.
    pub fn url_for(&self, database: &str) -> String {
        match self.admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{database}"),
            None => self.admin_url.clone(),
        }
    }

    /// Creates `name` unless it exists.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::establish(&self.admin_url)?;
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{}')",
            name.replace('\'', "''")
        )))
        .get_result(&mut conn)?;
        if !exists {
            diesel::sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', ""))).execute(&mut conn)?;
        }
        Ok(())
    }

    /// Creates `name` as a copy of `template` (which must have no open connections).
    pub fn create_database_from_template(&self, name: &str, template: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::establish(&self.admin_url)?;
        diesel::sql_query(format!("CREATE DATABASE \"{}\" TEMPLATE \"{}\"", name.replace('"', ""), template.replace('"', ""))).execute(&mut conn)?;
        Ok(())
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!("postgres exited during start-up ({status}); its log says:\n{}", self.log_tail());
            }
            match PgConnection::establish(&self.admin_url) {
                Ok(_) => return Ok(()),
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => bail!("postgres did not accept connections within 60 s: {e}\n{}", self.log_tail()),
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Fast shutdown: SIGINT, then wait; SIGQUIT if it has not stopped after 30 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGQUIT) };
        let _ = child.wait();
    }

    /// The postmaster's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The directory holding `postgres` and `initdb`: from `PATH`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn server_binaries() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file());
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "PostgreSQL server binaries (postgres, initdb) not found: install the Debian package `postgresql` (apt-get install postgresql), or set DATABASE_URL"
        ),
    }
}

fn run_as() -> anyhow::Result<Option<RunAs>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres")?;
    // SAFETY: getpwnam returns a pointer to static storage or null; we copy out at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        bail!(
            "running as root, and PostgreSQL refuses to run as root: no `postgres` user exists to run it as (install the Debian package `postgresql`, which creates it)"
        );
    }
    // SAFETY: entry is non-null and points to a valid passwd record.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some(RunAs { uid, gid }))
}

fn chown(path: &Path, ids: RunAs) -> anyhow::Result<()> {
    std::os::unix::fs::chown(path, Some(ids.uid), Some(ids.gid)).with_context(|| format!("chown {}", path.display()))
}

fn init_cluster(bin: &Path, cluster: &Path, password_file: &Path, run_as: Option<RunAs>) -> anyhow::Result<()> {
    if cluster.exists() {
        // A half-made cluster from an interrupted first start: initdb needs an empty folder.
        fs::remove_dir_all(cluster)?;
    }
    fs::create_dir_all(cluster)?;
    fs::set_permissions(cluster, fs::Permissions::from_mode(0o700))?;
    if !password_file.exists() {
        write_private_file(password_file, &random_hex(24))?;
    }
    let password = fs::read_to_string(password_file)?;
    // initdb reads the password from a file the server user can read; it is removed at once.
    let pwfile = cluster.with_file_name(".initdb-pw");
    let _ = fs::remove_file(&pwfile);
    write_private_file(&pwfile, password.trim())?;
    if let Some(ids) = run_as {
        chown(cluster, ids)?;
        chown(&pwfile, ids)?;
    }
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("-D")
        .arg(cluster)
        .args(["-U", SUPERUSER, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    if let Some(ids) = run_as {
        command.uid(ids.uid).gid(ids.gid);
    }
    let output = command.output().with_context(|| format!("running {}", bin.join("initdb").display()));
    let _ = fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        let _ = std::io::stderr().write_all(&output.stderr);
        bail!("initdb failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
