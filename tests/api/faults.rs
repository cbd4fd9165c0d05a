//! Faults, on the real binary and its private cluster: the postmaster killed while pharmacies
//! submit dispensing batches, and the server killed in the middle of a large batch. Every
//! record a client saw acknowledged must be stored exactly once, and stock never negative.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "faults-test-admin-pw";
const PHARMACIST_PASSWORD: &str = "faults-test-pharmacist-pw";
/// The pool's connection timeout the servers under test run with (`TAROZI_DB_CONNECT_TIMEOUT_MS`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A fresh data folder the postgres user can reach (the tests may run as root).
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tarozi serve` as a child process on its own private cluster under `data_dir`.
struct Server {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path, run: u32) -> Server {
        let log = data_dir.join(format!("serve-{run}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_tarozi"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env("TAROZI_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TAROZI_WORKERS", "2")
            .env("TAROZI_SCAN_INTERVAL_HOURS", "0")
            .env("TAROZI_DB_CONNECT_TIMEOUT_MS", CONNECT_TIMEOUT.as_millis().to_string())
            .env("TAROZI_LOG_FORMAT", "text")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let rx = crate::helpers::announced_address(&mut child);
        let address = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => address,
            Err(_) => panic!("the server did not announce its address; its log:\n{}", std::fs::read_to_string(&log).unwrap_or_default()),
        };
        Server { child, address, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
    }

    fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not stop within 60 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// The private cluster of a data folder, as its files describe it.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn pid_file(&self) -> PathBuf {
        self.dir.join("pg/postmaster.pid")
    }

    /// The postmaster's pid and port (lines 1 and 4 of `postmaster.pid`).
    fn postmaster(&self) -> Option<(i32, u16)> {
        let text = std::fs::read_to_string(self.pid_file()).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        Some((lines.first()?.trim().parse().ok()?, lines.get(3)?.trim().parse().ok()?))
    }

    fn conn(&self) -> PgConnection {
        let (_, port) = self.postmaster().expect("the cluster runs");
        let password = std::fs::read_to_string(self.dir.join("pg-password")).unwrap();
        PgConnection::establish(&format!("postgres://tarozi:{}@127.0.0.1:{port}/tarozi", password.trim())).unwrap()
    }

    /// Waits until the cluster has stopped (its lock file is gone).
    fn wait_stopped(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.pid_file().exists() {
            assert!(Instant::now() < deadline, "the cluster did not stop within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[derive(QueryableByName)]
struct StoredRecord {
    #[diesel(sql_type = Text)]
    client_record_id: String,
    #[diesel(sql_type = BigInt)]
    copies: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
}

/// Each stored `client_record_id` of a facility, with how many rows carry it and their units.
fn stored_records(conn: &mut PgConnection, facility_id: i64) -> Vec<StoredRecord> {
    diesel::sql_query(
        "SELECT client_record_id, count(*) AS copies, sum(quantity_units)::int8 AS units FROM dispensings WHERE facility_id = $1 GROUP BY 1",
    )
    .bind::<BigInt, _>(facility_id)
    .load(conn)
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// Points in time at which the facility's running balance (stock events and dispensings, in
/// time order) is below zero.
fn negative_points(conn: &mut PgConnection, facility_id: i64) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM (
             SELECT sum(delta) OVER (ORDER BY at, delta DESC ROWS UNBOUNDED PRECEDING) AS running
             FROM (SELECT occurred_at AS at, delta_units AS delta FROM stock_events WHERE facility_id = $1
                   UNION ALL SELECT dispensed_at, -quantity_units FROM dispensings WHERE facility_id = $1) moves
         ) timeline WHERE running < 0",
    )
    .bind::<BigInt, _>(facility_id)
    .get_result::<Count>(conn)
    .unwrap()
    .n
}

/// One answer: status, `Retry-After`, body, and how long it took.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    replayed: bool,
    body: Value,
    text: String,
    took: Duration,
}

/// A small HTTP client of one server.
struct Api {
    address: String,
    client: awc::Client,
}

impl Api {
    fn new(server: &Server) -> Api {
        Api { address: server.address.clone(), client: awc::Client::builder().timeout(Duration::from_secs(120)).finish() }
    }

    async fn send(
        &self,
        method: awc::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Answer, String> {
        let started = Instant::now();
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(k) = key {
            req = req.insert_header(("Idempotency-Key", k));
        }
        let mut response = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .map_err(|e| e.to_string())?;
        let bytes = response.body().limit(64 * 1024 * 1024).await.map_err(|e| e.to_string())?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Answer {
            status: response.status().as_u16(),
            retry_after: header("retry-after").and_then(|v| v.parse().ok()),
            replayed: header("idempotent-replayed").as_deref() == Some("true"),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
            took: started.elapsed(),
        })
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(awc::http::Method::GET, path, token, None, None).await.unwrap()
    }

    /// POSTs and insists on `expected`.
    async fn post(&self, path: &str, token: &str, body: Value, expected: u16) -> Value {
        let a = self.send(awc::http::Method::POST, path, Some(token), Some(&body), None).await.unwrap();
        assert_eq!(a.status, expected, "POST {path}: {}", a.text);
        a.body
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let a = self
            .send(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": username, "password": password})), None)
            .await
            .unwrap();
        assert_eq!(a.status, 200, "login of {username}: {}", a.text);
        a.body["access_token"].as_str().unwrap().to_owned()
    }
}

/// A pharmacy with `stock` units of morphine tablets and its pharmacist's token.
struct World {
    pharmacy_id: i64,
    product_id: i64,
    pharmacist: String,
}

impl World {
    async fn seed(api: &Api, stock: i64) -> World {
        let admin = api.login("admin", ADMIN_PASSWORD).await;
        let region =
            api.post("/api/v1/regions", &admin, json!({"country_code": "KZ", "name": "Almaty"}), 201).await["region"]["id"].as_i64().unwrap();
        let pharmacy = api
            .post(
                "/api/v1/facilities",
                &admin,
                json!({"name": "Dari-Darmek 7", "kind": "pharmacy", "licence_number": "LIC-FAULTS-7", "licence_valid_until": "2099-12-31", "region_id": region}),
                201,
            )
            .await["facility"]["id"]
            .as_i64()
            .unwrap();
        let substances = api.get("/api/v1/substances?per_page=1000", Some(&admin)).await;
        let morphine = substances.body["substances"].as_array().unwrap().iter().find(|s| s["inn"] == "morphine").unwrap()["id"].as_i64().unwrap();
        let product = api
            .post(
                "/api/v1/products",
                &admin,
                json!({"name": "Morphine 10 mg tablet", "substance_id": morphine, "base_mg_per_unit": "10", "dosage_form": "tablet", "unit": "tablet"}),
                201,
            )
            .await["product"]["id"]
            .as_i64()
            .unwrap();
        api.post(
            "/api/v1/users",
            &admin,
            json!({"username": "pharmacist-7", "password": PHARMACIST_PASSWORD, "role": "pharmacy", "country_code": "KZ", "facility_id": pharmacy}),
            201,
        )
        .await;
        let pharmacist = api.login("pharmacist-7", PHARMACIST_PASSWORD).await;
        api.post(
            &format!("/api/v1/facilities/{pharmacy}/stock-events"),
            &pharmacist,
            json!({"kind": "receipt", "product_id": product, "quantity_units": stock, "occurred_at": chrono::Utc::now() - chrono::Duration::days(20)}),
            201,
        )
        .await;
        World { pharmacy_id: pharmacy, product_id: product, pharmacist }
    }

    fn path(&self) -> String {
        format!("/api/v1/facilities/{}/dispensings", self.pharmacy_id)
    }

    async fn balance(&self, api: &Api) -> i64 {
        let a = api.get(&format!("/api/v1/facilities/{}/stock", self.pharmacy_id), Some(&self.pharmacist)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.body["stock"].as_array().unwrap().iter().find(|l| l["product_id"] == self.product_id).map_or(0, |l| l["balance_units"].as_i64().unwrap())
    }
}

/// One dispensing record of one unit, `seconds` into yesterday.
fn record(product: i64, id: &str, seconds: i64) -> Value {
    let at = chrono::Utc::now().date_naive().pred_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::seconds(seconds);
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": 1, "dispensed_at": at,
        "patient_id": format!("8704{:08}", seconds % 100_000_000), "patient_sex": "female", "patient_age": 67,
        "prescriber_id": "KZ-DOC-1001", "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": "cancer"
    })
}

/// What the clients of test A saw.
#[derive(Default)]
struct Observed {
    /// `client_record_id`s answered accepted or replayed.
    acknowledged: BTreeSet<String>,
    /// Acknowledged batches per client.
    batches: BTreeMap<usize, usize>,
    /// When each batch was acknowledged.
    acknowledged_at: Vec<Instant>,
    /// 503 answers: how long each took, and whether it carried `Retry-After`.
    unavailable: Vec<(Duration, bool)>,
    /// Anything else that was not a 200 or a 503.
    unexpected: Vec<String>,
}

/// A pharmacy client: batches of 5 records, each retried with its Idempotency-Key until it
/// is answered 200, until `stop`.
async fn pharmacy_client(api: Rc<Api>, world: Rc<World>, client: usize, stop: Rc<Cell<bool>>, seen: Rc<RefCell<Observed>>) {
    let mut batch = 0usize;
    while !stop.get() {
        let ids: Vec<String> = (0..5).map(|r| format!("c{client}-b{batch}-r{r}")).collect();
        let records: Vec<Value> =
            ids.iter().enumerate().map(|(r, id)| record(world.product_id, id, (client * 10_000 + batch * 5 + r) as i64)).collect();
        let body = json!({"records": records});
        let key = format!("faults-c{client}-b{batch}");
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            assert!(Instant::now() < deadline, "client {client} could not get batch {batch} through in 180 s");
            match api.send(awc::http::Method::POST, &world.path(), Some(&world.pharmacist), Some(&body), Some(&key)).await {
                Ok(a) if a.status == 200 => {
                    let mut seen = seen.borrow_mut();
                    for (i, result) in a.body["results"].as_array().unwrap().iter().enumerate() {
                        let status = result["status"].as_str().unwrap_or("");
                        if status == "accepted" || status == "replayed" {
                            seen.acknowledged.insert(ids[i].clone());
                        } else {
                            seen.unexpected.push(format!("record {} answered {status}: {result}", ids[i]));
                        }
                    }
                    *seen.batches.entry(client).or_default() += 1;
                    seen.acknowledged_at.push(Instant::now());
                    break;
                }
                Ok(a) if a.status == 503 => {
                    seen.borrow_mut().unavailable.push((a.took, a.retry_after.is_some() && a.body["code"].is_string()));
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(a) => {
                    seen.borrow_mut().unexpected.push(format!("{} after {:?}: {}", a.status, a.took, a.text));
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    seen.borrow_mut().unexpected.push(format!("transport error: {e}"));
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        batch += 1;
    }
}

/// Waits until every one of `clients` has at least `batches` acknowledged batches.
async fn wait_for_batches(seen: &RefCell<Observed>, clients: usize, batches: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while (0..clients).any(|c| seen.borrow().batches.get(&c).copied().unwrap_or(0) < batches) {
        assert!(Instant::now() < deadline, "the clients did not get {batches} batches each through within {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_crash_of_the_private_cluster_is_answered_503_then_healed_without_losing_or_doubling_a_record() {
    const CLIENTS: usize = 3;
    const STOCK: i64 = 100_000;
    let dir = fresh_dir("faults-pg-crash");
    let server = Server::start(&dir, 1);
    let cluster = Cluster { dir: dir.clone() };
    let api = Rc::new(Api::new(&server));
    let world = Rc::new(World::seed(&api, STOCK).await);
    assert_eq!(api.get("/ready", None).await.status, 200);

    let stop = Rc::new(Cell::new(false));
    let seen = Rc::new(RefCell::new(Observed::default()));
    let clients: Vec<_> =
        (0..CLIENTS).map(|c| actix_web::rt::spawn(pharmacy_client(api.clone(), world.clone(), c, stop.clone(), seen.clone()))).collect();
    wait_for_batches(&seen, CLIENTS, 3, Duration::from_secs(60)).await;

    // SIGKILL the postmaster while the clients keep submitting.
    let (old_pid, old_port) = cluster.postmaster().expect("the cluster runs");
    let acknowledged_before = seen.borrow().acknowledged.len();
    // SAFETY: kill(2) on the postmaster of our own child's private cluster.
    assert_eq!(unsafe { libc::kill(old_pid, libc::SIGKILL) }, 0);
    let killed = Instant::now();

    // `/ready` turns 503 with Retry-After, quickly; then back to 200 by itself.
    let mut ready_503: Vec<Duration> = Vec::new();
    let back = loop {
        assert!(killed.elapsed() < Duration::from_secs(120), "the server did not become ready again within 120 s; its log:\n{}", server.log_text());
        let a = api.get("/ready", None).await;
        match a.status {
            503 => {
                assert!(a.retry_after.is_some(), "a 503 from /ready carries Retry-After");
                assert_eq!(a.body["code"], "database_unavailable", "{}", a.text);
                ready_503.push(a.took);
            }
            200 if !ready_503.is_empty() => break killed.elapsed(),
            200 => assert!(killed.elapsed() < Duration::from_secs(15), "/ready never answered 503 after the postmaster was killed"),
            other => panic!("/ready answered {other}: {}", a.text),
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let (new_pid, new_port) = cluster.postmaster().expect("the cluster runs again");
    assert_ne!(new_pid, old_pid, "a new postmaster runs");
    assert_eq!(new_port, old_port, "the restarted cluster keeps its port");

    // The same server, never restarted, serves again.
    let outage_answers = seen.borrow().unavailable.len();
    let before_recovery: BTreeMap<usize, usize> = seen.borrow().batches.clone();
    let deadline = Instant::now() + Duration::from_secs(90);
    while (0..CLIENTS).any(|c| seen.borrow().batches.get(&c).copied().unwrap_or(0) < before_recovery.get(&c).copied().unwrap_or(0) + 3) {
        assert!(Instant::now() < deadline, "the clients were not served again within 90 s of recovery; log:\n{}", server.log_text());
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    stop.set(true);
    for c in clients {
        c.await.unwrap();
    }

    let seen = std::mem::take(&mut *seen.borrow_mut());
    assert!(seen.unexpected.is_empty(), "answers other than 200 and 503: {:#?}\nlog:\n{}", seen.unexpected, server.log_text());
    assert!(seen.acknowledged.len() > acknowledged_before, "records were acknowledged after the outage");
    let bound = CONNECT_TIMEOUT + Duration::from_secs(4);
    let slowest_503 = seen.unavailable.iter().map(|(took, _)| *took).chain(ready_503.iter().copied()).max().unwrap_or_default();
    assert!(slowest_503 <= bound, "an outage answer took {slowest_503:?}, more than the pool timeout and a margin ({bound:?})");
    assert!(seen.unavailable.iter().all(|(_, retry)| *retry), "every 503 to a client carries Retry-After and a problem code");
    let log = server.log_text();
    assert!(log.contains("cluster exited"), "the supervisor logged the exit:\n{log}");
    assert!(log.contains("cluster is back"), "the supervisor logged the restart:\n{log}");

    // Every acknowledged record is stored exactly once, nothing else is, and stock never went negative.
    let stored = stored_records(&mut cluster.conn(), world.pharmacy_id);
    let doubled: Vec<&str> = stored.iter().filter(|r| r.copies != 1).map(|r| r.client_record_id.as_str()).collect();
    assert!(doubled.is_empty(), "records stored more than once: {doubled:?}");
    let stored_ids: BTreeSet<String> = stored.iter().map(|r| r.client_record_id.clone()).collect();
    assert_eq!(stored_ids, seen.acknowledged, "the stored records are exactly the acknowledged ones");
    let dispensed: i64 = stored.iter().map(|r| r.units).sum();
    let balance = world.balance(&api).await;
    assert!(balance >= 0, "no negative balance");
    assert_eq!(balance, STOCK - dispensed, "the ledger debited every stored record once");
    let mut conn = cluster.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM stock_balances WHERE balance_units < 0"), 0, "no stock balance is negative");
    assert_eq!(negative_points(&mut conn, world.pharmacy_id), 0, "the pharmacy's balance is never negative at any date");

    let served_again = seen.acknowledged_at.iter().filter(|t| **t > killed).min().map(|t| t.duration_since(killed)).unwrap_or_default();
    let mut latencies: Vec<Duration> = seen.unavailable.iter().map(|(t, _)| *t).collect();
    latencies.sort();
    eprintln!(
        "faults: postmaster killed; /ready 503 x{} (slowest {:?}), back after {back:?}, first batch served again after {served_again:?}; clients got 503 x{outage_answers} (median {:?}, slowest {slowest_503:?} incl. /ready); {} records acknowledged, all stored once",
        ready_503.len(),
        ready_503.iter().max().copied().unwrap_or_default(),
        latencies.get(latencies.len() / 2).copied().unwrap_or_default(),
        seen.acknowledged.len(),
    );
    server.stop();
    cluster.wait_stopped(Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn a_server_killed_in_the_middle_of_a_large_batch_leaves_nothing_half_written_and_the_retry_completes_it() {
    const RECORDS: usize = 10_000;
    const STOCK: i64 = 20_000;
    let dir = fresh_dir("faults-serve-kill");
    let mut server = Server::start(&dir, 1);
    let cluster = Cluster { dir: dir.clone() };
    let api = Api::new(&server);
    let world = World::seed(&api, STOCK).await;
    let records: Vec<Value> = (0..RECORDS).map(|i| record(world.product_id, &format!("big-{i:05}"), i as i64 * 7)).collect();
    let body = json!({"records": records});
    const KEY: &str = "faults-big-batch-1";

    // Send the batch; kill the server once its transaction holds the facility's batch lock.
    let first = {
        let api = Rc::new(api);
        let (api2, body2, path, token) = (api.clone(), body.clone(), world.path(), world.pharmacist.clone());
        let request = actix_web::rt::spawn(async move { api2.send(awc::http::Method::POST, &path, Some(&token), Some(&body2), Some(KEY)).await });
        let mut watch = cluster.conn();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "the batch never started its transaction");
            if count(&mut watch, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()") > 0 {
                break;
            }
            // Let the request task run between looks.
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        // Some rows of the batch are written inside the open transaction by now.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        server.kill();
        drop(watch);
        request.await.unwrap()
    };
    assert!(first.is_err(), "the batch was cut off by the kill, not answered: {:?}", first.as_ref().map(|a| a.status));

    // The cluster goes down with the server (it is told to when its parent dies).
    cluster.wait_stopped(Duration::from_secs(60));
    let server = Server::start(&dir, 2);
    let api = Api::new(&server);
    let path = world.path();
    let retry = api.send(awc::http::Method::POST, &path, Some(&world.pharmacist), Some(&body), Some(KEY)).await.unwrap();
    assert_eq!(retry.status, 200, "{}", retry.text);
    let (accepted, replayed, rejected) =
        (retry.body["accepted"].as_u64().unwrap(), retry.body["replayed"].as_u64().unwrap(), retry.body["rejected"].as_u64().unwrap());
    assert_eq!(rejected, 0, "{}", retry.text);
    assert_eq!(accepted + replayed, RECORDS as u64, "every record is answered accepted or replayed");
    // The kill came before the commit (nothing was stored, the retry writes it all) or after
    // it (the retry replays the stored answer); never a part of the batch either way.
    assert_eq!(accepted, RECORDS as u64, "{}", retry.text);

    // Once more: now the stored answer is replayed as it was.
    let again = api.send(awc::http::Method::POST, &path, Some(&world.pharmacist), Some(&body), Some(KEY)).await.unwrap();
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.replayed, "the second retry replays the stored response");
    assert_eq!(again.body, retry.body);

    let stored = stored_records(&mut cluster.conn(), world.pharmacy_id);
    assert_eq!(stored.len(), RECORDS, "each record is stored");
    assert!(stored.iter().all(|r| r.copies == 1), "and stored once");
    assert_eq!(world.balance(&api).await, STOCK - RECORDS as i64, "stock is debited once per record");
    assert_eq!(negative_points(&mut cluster.conn(), world.pharmacy_id), 0, "the balance is never negative at any date");
    eprintln!(
        "faults: serve killed mid-batch ({RECORDS} records); the retry on the restarted server was {} in {:?}; each record stored once",
        if retry.replayed { "replayed" } else { "written afresh" },
        retry.took
    );
    server.stop();
    cluster.wait_stopped(Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[actix_web::test]
async fn pooled_connections_carry_the_request_statement_timeout_and_set_local_lifts_it_for_one_transaction() {
    let app = crate::helpers::TestApp::spawn().await;
    let pool = app.shared.state.pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let shown: Setting = diesel::sql_query("SELECT current_setting('statement_timeout') AS value").get_result(&mut *conn).unwrap();
        assert_eq!(shown.value, "30s", "the default request statement timeout");
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query("SET LOCAL statement_timeout = 0").execute(conn)?;
            let inside: Setting = diesel::sql_query("SELECT current_setting('statement_timeout') AS value").get_result(conn)?;
            assert_eq!(inside.value, "0");
            Ok(())
        })
        .unwrap();
        let after: Setting = diesel::sql_query("SELECT current_setting('statement_timeout') AS value").get_result(&mut *conn).unwrap();
        assert_eq!(after.value, "30s", "SET LOCAL ends with its transaction");
    })
    .await
    .unwrap();
}

#[actix_web::test]
async fn a_statement_killed_by_the_timeout_and_a_connection_lost_mid_request_are_503_with_retry_after() {
    use tarozi::app::error::AppError;
    let app = crate::helpers::TestApp::spawn().await;
    let url = app.database_url.clone();
    actix_web::web::block(move || {
        let problem = |e: AppError| {
            let p = e.domain().unwrap_or_else(|| panic!("a problem, not an internal error: {e}")).clone();
            (tarozi::error::status_of(p.code).as_u16(), p.code.as_str(), p.retry_after_seconds.is_some())
        };
        let mut conn = PgConnection::establish(&url).unwrap();
        diesel::sql_query("SET statement_timeout = 50").execute(&mut conn).unwrap();
        let timed_out = diesel::sql_query("SELECT pg_sleep(2)").execute(&mut conn).unwrap_err();
        assert_eq!(problem(AppError::from(timed_out)), (503, "statement_timeout", true));

        // The connection's server process is terminated under it, as when the server dies.
        #[derive(QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        let pid: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(&mut conn).unwrap();
        let mut other = PgConnection::establish(&url).unwrap();
        diesel::sql_query(format!("SELECT pg_terminate_backend({})", pid.pid)).execute(&mut other).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let lost = diesel::sql_query("SELECT 1").execute(&mut conn).unwrap_err();
        assert_eq!(problem(AppError::from(lost)), (503, "database_unavailable", true));
        let again = diesel::sql_query("SELECT 1").execute(&mut conn).unwrap_err();
        assert_eq!(problem(AppError::from(again)), (503, "database_unavailable", true));
        // The same, carried through anyhow as some write paths do.
        let wrapped = diesel::sql_query("SELECT 1").execute(&mut conn).map_err(anyhow::Error::from).unwrap_err();
        assert_eq!(problem(AppError::from(wrapped)), (503, "database_unavailable", true));
    })
    .await
    .unwrap();
}
