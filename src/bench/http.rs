//! `tarozi bench-http`: the API under load from its own lean HTTP/1.1 keep-alive client.
//!
//! A `tarozi serve` child process runs on a private cluster preloaded with a country-year of
//! dispensing records (the `bench-analytics` loader, through the real write paths), so reads
//! and writes meet a populated database. Then, side by side in one run, each phase for a
//! fixed time over the same number of keep-alive connections:
//! - `GET /health`, a bare handler: what the server and client manage at all;
//! - `POST /insert` of a bare handler (`bench::bare`, its own child process) that writes
//!   the request body as one row through the same pool: the floor of a write;
//! - `GET /api/v1/auth/me`: a token check and the user-row look-up every request pays;
//! - single-record dispensing `POST`s, round robin over every pharmacy, each record new;
//! - the availability report of the preloaded year, as a ministry user.
//!
//! The client runs on one thread of this process (so it takes at most one core away from
//! the server): each connection writes a request, reads the whole response (length or
//! chunked), and records the latency, so there is one request in flight per connection.
//! Around each phase it reads the CPU time of the server, of the cluster (postmaster and
//! children) and of itself from `/proc`, and PostgreSQL's commit and WAL-flush counters, so
//! the figures say per request where the time goes.

use std::io;
use std::rc::Rc;
use std::time::{Duration as StdDuration, Instant};

use actix_web::rt::net::TcpStream;
use anyhow::{Context, bail};
use chrono::{Datelike, Duration, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::auth::jwt::TokenKeys;
use crate::bench::analytics::{AnalyticsOptions, load};
use crate::bench::{BENCH_JWT_SECRET, ServerProcess, fixtures, rate, statements, token};
use crate::db::enums::Role;
use crate::db::models::user::{NewUser, User};
use crate::domain::ids::{FacilityId, ProductId};

#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Keep-alive connections, one request in flight on each.
    pub connections: usize,
    /// Measured seconds per phase.
    pub seconds: u64,
    pub pharmacies: usize,
    /// Dispensing records of the preloaded year.
    pub preload: usize,
    /// The (complete) preloaded year, read by the availability phase.
    pub year: i32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { connections: 32, seconds: 15, pharmacies: 100, preload: 300_000, year: Utc::now().year() - 1 }
    }
}

const INDICATIONS: [&str; 6] = ["cancer", "palliative", "acute", "chronic_non_cancer", "opioid_dependence", "other"];
const SEXES: [&str; 3] = ["female", "male", "unknown"];

/// One HTTP/1.1 keep-alive connection; `buffer` holds bytes read past the last response.
struct HttpConnection {
    stream: TcpStream,
    buffer: Vec<u8>,
    host: String,
}

/// A response: status, whether the body passed the phase's check, and whether the server
/// closes the connection after it.
struct Answer {
    status: u16,
    body: Vec<u8>,
    close: bool,
}

impl HttpConnection {
    async fn open(host: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        Ok(HttpConnection { stream, buffer: Vec::with_capacity(16 * 1024), host: host.to_owned() })
    }

    async fn reopen(&mut self) -> io::Result<()> {
        *self = HttpConnection::open(&self.host.clone()).await?;
        Ok(())
    }

    async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection")),
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one request and reads its whole response.
    async fn exchange(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buffer, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status line"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            if let Some(v) = line.strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>().map_err(|_| bad("bad content-length"))?);
            } else if let Some(v) = line.strip_prefix("transfer-encoding:") {
                chunked = v.contains("chunked");
            } else if let Some(v) = line.strip_prefix("connection:") {
                close = v.contains("close");
            }
        }
        let body = if chunked {
            self.read_chunked(head_end).await?
        } else {
            let length = length.unwrap_or(0);
            while self.buffer.len() < head_end + length {
                self.fill().await?;
            }
            let body = self.buffer[head_end..head_end + length].to_vec();
            self.buffer.drain(..head_end + length);
            body
        };
        Ok(Answer { status, body, close })
    }

    async fn read_chunked(&mut self, mut at: usize) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buffer[at..], b"\r\n") {
                    break at + i;
                }
                self.fill().await?;
            };
            let size_text = String::from_utf8_lossy(&self.buffer[at..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).map_err(|_| bad("bad chunk size"))?;
            let data_end = line_end + 2 + size + 2;
            while self.buffer.len() < data_end {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buffer[line_end + 2..line_end + 2 + size]);
            at = data_end;
            if size == 0 {
                self.buffer.drain(..at);
                return Ok(body);
            }
        }
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A request of a phase: connection number and its sequence number in, bytes out.
type MakeRequest = Rc<dyn Fn(usize, u64) -> Vec<u8>>;
/// Whether a 2xx body is the expected answer (a dispensing batch with its record accepted).
type CheckBody = fn(&[u8]) -> bool;

fn get_request(path: &str, bearer: Option<&str>) -> Vec<u8> {
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

fn post_request(path: &str, bearer: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// CPU seconds (user + system) of a process, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is field 3.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// CPU seconds of the postmaster and all its children (backends, WAL writer, checkpointer).
fn cluster_cpu_seconds(postmaster: u32) -> f64 {
    let mut total = cpu_seconds(postmaster);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok())));
        if parent == Some(postmaster) {
            total += cpu_seconds(pid);
        }
    }
    total
}

/// What a phase cost: CPU of the server, the cluster and this client, and the database's
/// committed transactions and WAL flushes.
#[derive(Debug, Clone, Copy, Default)]
struct Costs {
    server_cpu: f64,
    cluster_cpu: f64,
    client_cpu: f64,
    commits: i64,
    wal_syncs: i64,
}

#[derive(QueryableByName)]
struct DbCounters {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    commits: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    wal_syncs: i64,
}

fn costs(server: u32, postmaster: u32, conn: &mut PgConnection) -> Costs {
    // Statistics reach the views at most a second late.
    std::thread::sleep(StdDuration::from_millis(1100));
    let db = diesel::sql_query(
        "SELECT (SELECT sum(xact_commit) FROM pg_stat_database)::bigint AS commits, (SELECT wal_sync FROM pg_stat_wal)::bigint AS wal_syncs",
    )
    .get_result::<DbCounters>(conn)
    .unwrap_or(DbCounters { commits: 0, wal_syncs: 0 });
    Costs {
        server_cpu: cpu_seconds(server),
        cluster_cpu: cluster_cpu_seconds(postmaster),
        client_cpu: cpu_seconds(std::process::id()),
        commits: db.commits,
        wal_syncs: db.wal_syncs,
    }
}

impl std::ops::Sub for Costs {
    type Output = Costs;
    fn sub(self, o: Costs) -> Costs {
        Costs {
            server_cpu: self.server_cpu - o.server_cpu,
            cluster_cpu: self.cluster_cpu - o.cluster_cpu,
            client_cpu: self.client_cpu - o.client_cpu,
            commits: self.commits - o.commits,
            wal_syncs: self.wal_syncs - o.wal_syncs,
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

struct PhaseResult {
    name: String,
    requests: usize,
    /// Non-2xx answers and broken connections.
    errors: usize,
    /// 2xx answers whose body failed the check.
    refused: usize,
    seconds: f64,
    /// Sorted, in microseconds.
    latencies: Vec<u32>,
    first_error: Option<String>,
    peak_rss_mib: Option<f64>,
    costs: Costs,
}

impl PhaseResult {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }
}

struct ConnectionTally {
    requests: usize,
    errors: usize,
    refused: usize,
    latencies: Vec<u32>,
    first_error: Option<String>,
}

/// Runs one phase: `connections` connections, each sending requests back to back for
/// `seconds` seconds.
async fn phase(host: &str, name: &str, connections: usize, seconds: u64, make: MakeRequest, check: Option<CheckBody>) -> anyhow::Result<PhaseResult> {
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(HttpConnection::open(host).await.with_context(|| format!("connecting to {host}"))?);
    }
    let started = Instant::now();
    let deadline = started + StdDuration::from_secs(seconds);
    let tasks: Vec<_> = opened
        .into_iter()
        .enumerate()
        .map(|(c, mut connection)| {
            let make = make.clone();
            actix_web::rt::spawn(async move {
                let mut tally = ConnectionTally { requests: 0, errors: 0, refused: 0, latencies: Vec::with_capacity(64 * 1024), first_error: None };
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    let request = make(c, seq);
                    seq += 1;
                    let sent = Instant::now();
                    let answer = connection.exchange(&request).await;
                    let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    tally.requests += 1;
                    tally.latencies.push(micros);
                    match answer {
                        Ok(a) if (200..300).contains(&a.status) => {
                            if check.is_some_and(|ok| !ok(&a.body)) {
                                tally.refused += 1;
                                tally.first_error.get_or_insert_with(|| format!("HTTP {}: {}", a.status, String::from_utf8_lossy(&a.body)));
                            }
                            if a.close && connection.reopen().await.is_err() {
                                break;
                            }
                        }
                        Ok(a) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert_with(|| format!("HTTP {}: {}", a.status, String::from_utf8_lossy(&a.body)));
                            if a.close && connection.reopen().await.is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert_with(|| format!("connection error: {e}"));
                            if connection.reopen().await.is_err() {
                                break;
                            }
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut result = PhaseResult {
        name: name.to_owned(),
        requests: 0,
        errors: 0,
        refused: 0,
        seconds: 0.0,
        latencies: Vec::new(),
        first_error: None,
        peak_rss_mib: None,
        costs: Costs::default(),
    };
    for task in tasks {
        let tally = task.await.map_err(|e| anyhow::anyhow!("a client connection failed: {e}"))?;
        result.requests += tally.requests;
        result.errors += tally.errors;
        result.refused += tally.refused;
        result.latencies.extend(tally.latencies);
        if result.first_error.is_none() {
            result.first_error = tally.first_error;
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.latencies.sort_unstable();
    Ok(result)
}

pub fn run(options: HttpOptions) -> anyhow::Result<()> {
    if options.connections == 0 || options.seconds == 0 || options.pharmacies == 0 || options.preload < options.pharmacies {
        bail!("--connections and --seconds must be at least 1, --pharmacies at least 1 and --preload at least --pharmacies");
    }
    println!(
        "bench-http: {} connections, {} s per phase, {} pharmacies, {} dispensing records preloaded in {}",
        options.connections, options.seconds, options.pharmacies, options.preload, options.year
    );
    let started = Instant::now();
    let analytics =
        AnalyticsOptions { records: options.preload, pharmacies: options.pharmacies, year: options.year, report_runs: 0, keep: false, reuse: None };
    let (database, fixture) = load(&analytics)?;
    let mut conn = PgConnection::establish(database.url())?;
    // Stock for the measured dispensing, whatever the preload left.
    fixtures::stock(&mut conn, &fixture.pharmacies, &fixture.products, 10_000_000, Utc::now() - Duration::days(1))?;
    let ministry = User::create(
        &mut conn,
        &NewUser {
            username: "bench-ministry",
            password_hash: &crate::auth::password::hash("bench-user-password")?,
            role: Role::Ministry,
            country_code: Some(&fixture.country),
            facility_id: None,
        },
    )?;
    println!("preloaded in {:.0} s", started.elapsed().as_secs_f64());

    let keys = TokenKeys::new(BENCH_JWT_SECRET.as_bytes());
    let ministry_token = token(&keys, ministry.id, Role::Ministry, &fixture.country, None)?;
    let pharmacies: Vec<(FacilityId, String)> = fixture
        .pharmacies
        .iter()
        .zip(&fixture.pharmacy_users)
        .map(|(f, u)| Ok((f.id, token(&keys, *u, Role::Pharmacy, &fixture.country, Some(f.id))?)))
        .collect::<anyhow::Result<_>>()?;
    let product_ids: Vec<ProductId> = fixture.products.iter().map(|p| p.id).collect();

    let server = ServerProcess::spawn(database.url(), &database.folder)?;
    let database_url = database.url();
    let host = server.address.trim_start_matches("http://").to_owned();
    let connections = options.connections;
    let seconds = options.seconds;
    let availability_path = format!("/api/v1/analytics/availability?country={}&year={}", fixture.country, options.year);

    let postmaster = database.cluster.pid().context("the cluster's postmaster")?;
    let server_pid = server.pid();
    println!("load average before: {}", load_average());
    let (phases, post_statements) = actix_web::rt::System::new().block_on({
        let server = &server;
        let conn = &mut conn;
        let ministry_token = ministry_token.clone();
        async move {
            // The report must answer before it is measured.
            let mut probe = HttpConnection::open(&host).await?;
            let answer = probe.exchange(&get_request(&availability_path, Some(&ministry_token))).await?;
            if answer.status != 200 {
                bail!("availability answered HTTP {}: {}", answer.status, String::from_utf8_lossy(&answer.body));
            }
            println!("availability report of {} {}: {} bytes of JSON", fixture.country, options.year, answer.body.len());
            drop(probe);

            let mut phases = Vec::new();
            let health: MakeRequest = Rc::new(|_, _| get_request("/health", None));
            let before = costs(server_pid, postmaster, conn);
            let mut measured = phase(&host, "GET /health (bare handler)", connections, seconds, health, None).await?;
            measured.costs = costs(server_pid, postmaster, conn) - before;
            measured.peak_rss_mib = server.peak_rss_mib();
            phases.push(measured);

            // The reference: a bare handler inserting the same body as one row, same pool and workers.
            let bare = ServerProcess::spawn_bare(database_url)?;
            let bare_host = bare.address.trim_start_matches("http://").to_owned();
            let bare_body = serde_json::to_vec(&json!({"records": [{"client_record_id": "bare", "product_id": 1, "quantity_units": 10,
                "dispensed_at": Utc::now(), "patient_id": "000000000001", "patient_sex": "female", "patient_age": 50,
                "prescriber_id": "DOC-00001", "prescription_number": "RX-bare", "days_supply": 10, "indication": "cancer"}]}))?;
            let insert_request = post_request("/insert", "none", &bare_body);
            let insert: MakeRequest = Rc::new(move |_, _| insert_request.clone());
            let before = costs(bare.pid(), postmaster, conn);
            let mut measured = phase(&bare_host, "POST one row (bare handler)", connections, seconds, insert, None).await?;
            measured.costs = costs(bare.pid(), postmaster, conn) - before;
            measured.peak_rss_mib = bare.peak_rss_mib();
            phases.push(measured);
            drop(bare);

            let me_request = get_request("/api/v1/auth/me", Some(&ministry_token));
            let me: MakeRequest = Rc::new(move |_, _| me_request.clone());
            let before = costs(server_pid, postmaster, conn);
            let mut measured = phase(&host, "GET /auth/me (token + user row)", connections, seconds, me, None).await?;
            measured.costs = costs(server_pid, postmaster, conn) - before;
            measured.peak_rss_mib = server.peak_rss_mib();
            phases.push(measured);

            let rngs: Rc<Vec<std::cell::RefCell<StdRng>>> =
                Rc::new((0..connections).map(|c| std::cell::RefCell::new(StdRng::seed_from_u64(c as u64))).collect());
            let pharmacies = Rc::new(pharmacies);
            let post: MakeRequest = Rc::new(move |c, seq| {
                let mut rng = rngs[c].borrow_mut();
                // Round robin over every pharmacy, connections interleaved.
                let p = (c + seq as usize * connections) % pharmacies.len();
                let (facility, bearer) = &pharmacies[p];
                let record = json!({
                    "client_record_id": format!("http-{c}-{seq}"),
                    "product_id": product_ids[rng.random_range(0..product_ids.len())],
                    "quantity_units": rng.random_range(1..=30),
                    "dispensed_at": Utc::now() - Duration::seconds(rng.random_range(0..60)),
                    "patient_id": format!("{:012}", p * 1_000_000 + rng.random_range(0..300)),
                    "patient_sex": SEXES[rng.random_range(0..SEXES.len())],
                    "patient_age": rng.random_range(0..95),
                    "prescriber_id": format!("DOC-{:05}", (p * 7 + rng.random_range(0..5)) % 4000),
                    "prescription_number": format!("RX-http-{c}-{seq}"),
                    "days_supply": rng.random_range(1..=30),
                    "indication": INDICATIONS[rng.random_range(0..INDICATIONS.len())],
                });
                let body = serde_json::to_vec(&json!({ "records": [record] })).unwrap_or_default();
                post_request(&format!("/api/v1/facilities/{facility}/dispensings"), bearer, &body)
            });
            let accepted: CheckBody = |body| find(body, b"\"accepted\":1").is_some();
            statements::reset(conn)?;
            let before = costs(server_pid, postmaster, conn);
            let mut measured = phase(&host, "POST dispensings (1 record)", connections, seconds, post, Some(accepted)).await?;
            measured.costs = costs(server_pid, postmaster, conn) - before;
            measured.peak_rss_mib = server.peak_rss_mib();
            phases.push(measured);
            let post_statements = statements::top(conn, 12)?;

            let read_request = get_request(&availability_path, Some(&ministry_token));
            let read: MakeRequest = Rc::new(move |_, _| read_request.clone());
            let before = costs(server_pid, postmaster, conn);
            let mut measured = phase(&host, "GET analytics/availability", connections, seconds, read, None).await?;
            measured.costs = costs(server_pid, postmaster, conn) - before;
            measured.peak_rss_mib = server.peak_rss_mib();
            phases.push(measured);
            anyhow::Ok((phases, post_statements))
        }
    })?;
    let peak = server.peak_rss_mib();
    drop(server);

    // Every accepted POST is a stored row.
    use crate::db::schema::dispensings as d;
    let stored: i64 = d::table.filter(d::client_record_id.like("http-%")).count().get_result(&mut conn)?;
    let post = &phases[3];
    let accepted = post.requests - post.errors - post.refused;
    if stored as usize != accepted {
        bail!("{accepted} POSTs were accepted but {stored} dispensing rows are stored");
    }

    println!();
    println!("{connections} connections, one request in flight on each; the client runs on one thread beside the server (2 cores shared)");
    println!("{:<33} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}", "phase", "requests", "errors", "rate/s", "p50 ms", "p95 ms", "p99 ms", "peak RSS");
    for p in &phases {
        println!(
            "{:<33} {:>9} {:>7} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>5.0} MiB",
            p.name,
            p.requests,
            p.errors + p.refused,
            rate(p.requests, p.seconds),
            p.percentile_ms(0.50),
            p.percentile_ms(0.95),
            p.percentile_ms(0.99),
            p.peak_rss_mib.unwrap_or(f64::NAN)
        );
    }
    for p in &phases {
        if let Some(e) = &p.first_error {
            println!("  first error of {}: {}", p.name, e.chars().take(300).collect::<String>());
        }
    }
    let (health, bare, me, read) = (&phases[0], &phases[1], &phases[2], &phases[4]);
    println!("targets:");
    println!(
        "  POST dispensings:  {} /s (target ≥ 1 500), p99 {:.1} ms (target ≤ 50 ms)",
        rate(post.requests, post.seconds),
        post.percentile_ms(0.99)
    );
    println!("  availability:      {} /s (target ≥ 2 000)", rate(read.requests, read.seconds));
    match peak {
        Some(mib) => println!("  server peak RSS:   {mib:.0} MiB (target < 300 MiB)"),
        None => println!("  server peak RSS:   unavailable"),
    }
    println!("where the time goes, per request (CPU ms of the server, of PostgreSQL, of this client; transactions committed; WAL flushes):");
    for p in &phases {
        let n = p.requests.max(1) as f64;
        let c = p.costs;
        println!(
            "  {:<33} server {:>6.3}  postgres {:>6.3}  client {:>6.3}  commits {:>5.2}  WAL flushes {:>5.2}  (busy {:.2} of 2 cores)",
            p.name,
            c.server_cpu * 1000.0 / n,
            c.cluster_cpu * 1000.0 / n,
            c.client_cpu * 1000.0 / n,
            c.commits as f64 / n,
            c.wal_syncs as f64 / n,
            (c.server_cpu + c.cluster_cpu + c.client_cpu) / p.seconds
        );
    }
    println!("PostgreSQL's statements of the POST phase, by time (pg_stat_statements; lock waits included):");
    statements::print(&post_statements, post.requests);
    println!("load average after: {} (other processes share the cores)", load_average());
    println!("ratios:");
    println!("  POST ÷ bare insert:     {:.3}", post.rate() / bare.rate());
    println!("  POST ÷ health:          {:.3}", post.rate() / health.rate());
    println!("  POST ÷ auth/me:         {:.3}", post.rate() / me.rate());
    println!("  auth/me ÷ health:       {:.3}", me.rate() / health.rate());
    println!("  availability ÷ health:  {:.3}", read.rate() / health.rate());
    println!("{stored} dispensing rows stored by the POST phase (one per accepted request)");
    drop(conn);
    drop(database);
    Ok(())
}
