//! `TestApp`: a real server on a free port, backed by its own database cloned from a
//! migrated template, with users per role holding real tokens.
//!
//! The PostgreSQL server is `TAROZI_TEST_DATABASE_URL` (a URL to its maintenance database,
//! e.g. `postgres://postgres@127.0.0.1:5432/postgres`) when set; otherwise a private,
//! disposable cluster started once per test process from the machine's PostgreSQL binaries.

use std::sync::OnceLock;

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::auth::jwt::{AUDIENCE, Claims, ISSUER};
use tarozi::config::Settings;
use tarozi::db::embedded::{EmbeddedPostgres, Tuning};
use tarozi::db::enums::{FacilityKind, Role};
use tarozi::domain::ids::FacilityId;
use tarozi::startup::{Application, Shared};
use tarozi::state::AppState;

pub const TEST_PASSWORD: &str = "correct-horse-battery";

struct Cluster {
    admin_url: String,
    template: String,
}

impl Cluster {
    fn url_for(&self, database: &str) -> String {
        match self.admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{database}"),
            None => self.admin_url.clone(),
        }
    }
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let admin_url = match std::env::var("TAROZI_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => start_private_cluster(),
        };
        let template = format!("tarozi_template_{}", std::process::id());
        let mut admin = PgConnection::establish(&admin_url).expect("connect to the test server");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {template}")).execute(&mut admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {template}")).execute(&mut admin).unwrap();
        let cluster = Cluster { admin_url, template };
        let mut conn = PgConnection::establish(&cluster.url_for(&cluster.template)).unwrap();
        tarozi::db::migrate(&mut conn).expect("migrate the template");
        cluster
    })
}

/// Starts the private cluster on a thread that lives as long as the test process, so the
/// cluster shuts down when the process ends.
fn start_private_cluster() -> String {
    // Under the system temp folder: when the tests run as root, the cluster runs as the
    // postgres user, which must be able to reach it (a checkout under /root is not).
    let base = std::env::temp_dir().join("tarozi-test-pg");
    std::fs::create_dir_all(&base).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Clusters of earlier runs are gone with their processes; their folders are not.
    for entry in std::fs::read_dir(&base).unwrap().flatten() {
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = base.join(std::process::id().to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let pg = EmbeddedPostgres::start(&dir, Tuning { disposable: true, ..Default::default() }).expect("start the private test cluster");
        tx.send(pg.admin_url().to_owned()).unwrap();
        loop {
            std::thread::park();
        }
    });
    rx.recv().expect("test cluster url")
}

pub fn test_settings() -> Settings {
    Settings {
        jwt_secret: b"test-jwt-secret-test-jwt-secret-0123".to_vec(),
        pseudonym_key: b"test-pseudonym-key-test-pseudonym-0123".to_vec(),
        token_ttl_seconds: 900,
        backdate_days: 30,
        reporting_grace_days: 10,
        ops: tarozi::config::OpsSettings::default(),
        trusted_proxies: Default::default(),
        hub: false,
    }
}

pub fn test_password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| tarozi::auth::password::hash(TEST_PASSWORD).unwrap())
}

/// A user of the test app and its bearer token.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub database: String,
    pub database_url: String,
    pub shared: Shared,
    client: awc::Client,
}

/// A response, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Panics with the body unless the status is `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.text);
        self
    }

    /// The problem's `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Pointers of the problem's field errors.
    pub fn pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["pointer"].as_str().or(e["parameter"].as_str()).map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_settings()).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        Self::spawn_on(settings, "127.0.0.1:0", |_| {}).await
    }

    /// A test app listening on `address`, with `prepare` run on its fresh database before
    /// the server binds (rows it must hold from its first request on).
    pub async fn spawn_on(settings: Settings, address: &str, prepare: impl FnOnce(&mut PgConnection) + Send + 'static) -> TestApp {
        let cluster = cluster();
        let database = format!("tarozi_test_{}", uuid::Uuid::new_v4().simple());
        let admin_url = cluster.admin_url.clone();
        let template = cluster.template.clone();
        let db = database.clone();
        actix_web::web::block(move || {
            let mut admin = PgConnection::establish(&admin_url).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {db} TEMPLATE {template} STRATEGY FILE_COPY")).execute(&mut admin).unwrap();
        })
        .await
        .unwrap();
        let database_url = cluster.url_for(&database);
        let url = database_url.clone();
        actix_web::web::block(move || prepare(&mut PgConnection::establish(&url).unwrap())).await.unwrap();
        let pool = tarozi::db::pool(&database_url, 12).unwrap();
        let shared = Shared::new(AppState::new(pool, settings));
        let app = Application::build(shared.clone(), address, 2).unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder().timeout(std::time::Duration::from_secs(120)).finish();
        TestApp { address, database, database_url, shared, client }
    }

    /// A direct connection to this test's database, for setting up and checking rows.
    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.database_url).unwrap()
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> TestResponse {
        self.request_with(method, path, token, body, &[]).await
    }

    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = self.client.request(method, format!("{}{}", self.address, path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut response = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request failed");
        let bytes = response.body().limit(256 * 1024 * 1024).await.expect("read body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        TestResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
        }
    }

    /// Sends raw bytes (for malformed bodies).
    pub async fn send_raw(&self, method: Method, path: &str, token: Option<&str>, content_type: &str, body: &'static str) -> TestResponse {
        let mut req = self.client.request(method, format!("{}{}", self.address, path)).insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut response = req.send_body(body).await.expect("request failed");
        let bytes = response.body().await.expect("read body");
        TestResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, user: &TestUser) -> TestResponse {
        self.request(Method::GET, path, Some(&user.token), None).await
    }

    pub async fn post(&self, path: &str, user: &TestUser, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(&user.token), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, user: &TestUser, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(&user.token), Some(&body)).await
    }

    pub async fn put(&self, path: &str, user: &TestUser, body: Value) -> TestResponse {
        self.request(Method::PUT, path, Some(&user.token), Some(&body)).await
    }

    /// Starts a scan (202, `running`) and waits until it has finished: the finished scan as
    /// `GET /diversion/scans/{id}` returns it (status 200).
    pub async fn scan(&self, user: &TestUser, body: Value) -> TestResponse {
        let r = self.post("/api/v1/diversion/scans", user, body).await.expect(202);
        assert_eq!(r.body["scan"]["status"], "running", "{}", r.text);
        let location = r.header("location").expect("a scan's Location");
        self.wait_for_scan(user, &location).await
    }

    /// Polls a scan until it is no longer `running` (at most two minutes).
    pub async fn wait_for_scan(&self, user: &TestUser, location: &str) -> TestResponse {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let r = self.get(location, user).await.expect(200);
            if r.body["scan"]["status"] != "running" {
                return r;
            }
            assert!(std::time::Instant::now() < deadline, "scan still running: {}", r.text);
            actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Mints a token for `user_id` with the given claims, expiring in `ttl` seconds.
    pub fn token_for(&self, user_id: i64, role: Role, country: Option<&str>, facility: Option<i64>, ttl: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        self.shared
            .state
            .tokens
            .issue(&Claims {
                sub: user_id.to_string(),
                iss: ISSUER.into(),
                aud: AUDIENCE.into(),
                iat: now,
                exp: now + ttl,
                role,
                country: country.map(str::to_owned),
                facility: facility.map(FacilityId),
            })
            .unwrap()
    }

    /// Creates a user row directly (password [`TEST_PASSWORD`]) and a real token for it.
    pub fn user(&self, role: Role, country: Option<&str>, facility: Option<i64>) -> TestUser {
        use tarozi::db::models::user::{NewUser, User};
        let username = format!("{}-{}", role, &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let user = User::create(
            &mut self.conn(),
            &NewUser { username: &username, password_hash: test_password_hash(), role, country_code: country, facility_id: facility.map(FacilityId) },
        )
        .unwrap();
        TestUser { id: user.id.get(), username, token: self.token_for(user.id.get(), role, country, facility, 900) }
    }

    pub fn admin(&self) -> TestUser {
        self.user(Role::Admin, None, None)
    }

    pub fn regulator(&self, country: &str) -> TestUser {
        self.user(Role::Regulator, Some(country), None)
    }

    pub fn ministry(&self, country: &str) -> TestUser {
        self.user(Role::Ministry, Some(country), None)
    }

    pub fn regional(&self) -> TestUser {
        self.user(Role::Regional, None, None)
    }

    /// The reporting user of a facility (pharmacy or wholesaler role, by its kind).
    pub fn facility_user(&self, facility: &Facility) -> TestUser {
        self.user(facility.kind.reporting_role(), Some(&facility.country_code), Some(facility.id))
    }

    /// Creates a region through the API (admin) and returns its id.
    pub async fn region(&self, country: &str, name: &str) -> i64 {
        let admin = self.admin();
        let r = self.post("/api/v1/regions", &admin, json!({"country_code": country, "name": name})).await.expect(201);
        r.body["region"]["id"].as_i64().unwrap()
    }

    /// Creates a facility through the API (admin), licensed until 2099.
    pub async fn facility(&self, region_id: i64, kind: FacilityKind, name: &str) -> Facility {
        let admin = self.admin();
        let r = self
            .post(
                "/api/v1/facilities",
                &admin,
                json!({"name": name, "kind": kind, "licence_number": format!("LIC-{}", uuid::Uuid::new_v4().simple()), "licence_valid_until": "2099-12-31", "region_id": region_id}),
            )
            .await
            .expect(201);
        serde_json::from_value(r.body["facility"].clone()).unwrap()
    }

    /// The id of a seeded substance.
    pub async fn substance_id(&self, inn: &str) -> i64 {
        let admin = self.admin();
        let r = self.get("/api/v1/substances?per_page=1000", &admin).await.expect(200);
        r.body["substances"].as_array().unwrap().iter().find(|s| s["inn"] == inn).unwrap()["id"].as_i64().unwrap()
    }

    /// Creates a product through the API (admin) labelled by its base content (strength =
    /// base, salt `base`) and returns its id.
    pub async fn product(&self, inn: &str, name: &str, base_mg_per_unit: &str, form: &str, unit: &str) -> i64 {
        self.labelled_product(inn, name, base_mg_per_unit, Some((base_mg_per_unit, "base")), form, unit).await
    }

    /// Creates a product through the API (admin) with its labelled strength (mg of a salt),
    /// or none (`strength_unknown`), and returns its id.
    pub async fn labelled_product(
        &self,
        inn: &str,
        name: &str,
        base_mg_per_unit: &str,
        strength: Option<(&str, &str)>,
        form: &str,
        unit: &str,
    ) -> i64 {
        let admin = self.admin();
        let substance_id = self.substance_id(inn).await;
        let mut body = json!({"name": name, "substance_id": substance_id, "base_mg_per_unit": base_mg_per_unit, "dosage_form": form, "unit": unit});
        if let Some((mg, salt)) = strength {
            body["strength_mg_per_unit"] = json!(mg);
            body["strength_salt"] = json!(salt);
        }
        if form == "transdermal_patch" {
            body["delivery_mcg_per_hour"] = json!("25");
        }
        let r = self.post("/api/v1/products", &admin, body).await.expect(201);
        r.body["product"]["id"].as_i64().unwrap()
    }

    /// Books `units` into a facility's stock with a plain receipt at `at`.
    pub async fn stock_up(&self, user: &TestUser, facility_id: i64, product_id: i64, units: i64, at: chrono::DateTime<chrono::Utc>) {
        self.post(
            &format!("/api/v1/facilities/{facility_id}/stock-events"),
            user,
            json!({"kind": "receipt", "product_id": product_id, "quantity_units": units, "occurred_at": at}),
        )
        .await
        .expect(201);
    }

    /// The balance of one product at a facility, read through the API.
    pub async fn balance(&self, user: &TestUser, facility_id: i64, product_id: i64) -> i64 {
        let r = self.get(&format!("/api/v1/facilities/{facility_id}/stock"), user).await.expect(200);
        r.body["stock"].as_array().unwrap().iter().find(|l| l["product_id"] == product_id).map_or(0, |l| l["balance_units"].as_i64().unwrap())
    }
}

/// `days` days before now.
pub fn days_ago(days: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(days)
}

/// A facility as the API returns it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Facility {
    pub id: i64,
    pub country_code: String,
    pub kind: FacilityKind,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let cluster = cluster();
        if let Ok(mut admin) = PgConnection::establish(&cluster.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database)).execute(&mut admin);
        }
    }
}

/// The address a `tarozi serve` child announces on its standard output (`listening on …`),
/// read on a thread of its own so the child never blocks on a full pipe.
pub fn announced_address(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("listening on ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    rx
}

/// A browser-like client of the dashboard: keeps the session cookie, sends forms with the
/// site's own `Origin`, follows no redirect (tests look at each answer).
pub struct WebSession {
    pub address: String,
    client: awc::Client,
    cookie: std::cell::RefCell<Option<String>>,
}

impl WebSession {
    pub fn new(app: &TestApp) -> WebSession {
        let client = awc::Client::builder().disable_redirects().timeout(std::time::Duration::from_secs(120)).finish();
        WebSession { address: app.address.clone(), client, cookie: std::cell::RefCell::new(None) }
    }

    fn keep_cookie(&self, headers: &awc::http::header::HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            if let Some(pair) = text.split(';').next()
                && let Some(("tarozi_session", v)) = pair.split_once('=')
            {
                *self.cookie.borrow_mut() = (!v.is_empty()).then(|| pair.to_owned());
            }
        }
    }

    /// The raw `Set-Cookie` of an answer, for checking its attributes.
    pub fn set_cookie(r: &TestResponse) -> String {
        r.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok()).find(|v| v.starts_with("tarozi_session=")).unwrap_or("").to_owned()
    }

    async fn finish(
        &self,
        mut response: awc::ClientResponse<impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin>,
    ) -> TestResponse {
        self.keep_cookie(response.headers());
        let bytes = response.body().limit(64 * 1024 * 1024).await.expect("read body");
        TestResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn request(&self, method: Method, path: &str) -> awc::ClientRequest {
        let mut req = self.client.request(method, format!("{}{}", self.address, path));
        if let Some(c) = self.cookie.borrow().as_ref() {
            req = req.insert_header(("Cookie", c.clone()));
        }
        req
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        let response = self.request(Method::GET, path).send().await.expect("request failed");
        self.finish(response).await
    }

    /// Posts a form as a browser on this site would (with its `Origin`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.post_form_from(path, fields, Some(&self.address.clone())).await
    }

    pub async fn post_form_from(&self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> TestResponse {
        let mut req = self.request(Method::POST, path);
        if let Some(o) = origin {
            req = req.insert_header(("Origin", o.to_owned()));
        }
        let response = req.send_form(&fields).await.expect("request failed");
        self.finish(response).await
    }

    /// Posts `multipart/form-data` with text fields and one file field named `file`.
    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], file: &[u8]) -> TestResponse {
        let boundary = "tarozi-test-boundary-7f3a";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"month.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .request(Method::POST, path)
            .insert_header(("Origin", self.address.clone()))
            .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
            .send_body(body)
            .await
            .expect("request failed");
        self.finish(response).await
    }

    /// The CSRF token of the page at `path` (the session's token).
    pub async fn csrf(&self, path: &str) -> String {
        let r = self.get(path).await;
        csrf_of(&r.text)
    }

    /// Signs in through the login form; panics unless it redirects.
    pub async fn login(&self, username: &str) -> TestResponse {
        let token = self.csrf("/dashboard/login").await;
        let r = self.post_form("/dashboard/login", &[("csrf", &token), ("username", username), ("password", TEST_PASSWORD)]).await;
        assert_eq!(r.status, 303, "login failed: {}", r.text);
        r
    }

    /// Signs in `user` and returns the session.
    pub async fn signed_in(app: &TestApp, user: &TestUser) -> WebSession {
        let s = WebSession::new(app);
        s.login(&user.username).await;
        s
    }
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    field_of(html, "csrf")
}

/// The value of the first hidden field `name` of a page.
pub fn field_of(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_owned()
}

/// A figure of an answer as text for exact comparison: a JSON number as written, a decimal
/// sent as a string without its quotes.
pub fn figure(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
