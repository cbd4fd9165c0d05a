//! Logs and database dumps keep no secrets: no national identifier, no password, no
//! pseudonym key (the argon2 hash and the HMAC pseudonym are what may be kept).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use awc::http::Method;
use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{TestApp, days_ago, test_settings};

/// Everything the process logs from the moment it is installed (JSON lines, as in production).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;
    fn make_writer(&'w self) -> Captured {
        self.clone()
    }
}

fn captured_log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let filter = tracing_subscriber::EnvFilter::new("debug");
        assert!(tarozi::observability::init_logging_to(false, filter, log.clone()), "another global subscriber is installed");
        log
    })
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// `pg_dump` of the cluster the tests use: from the newest `/usr/lib/postgresql/<v>/bin`
/// (the binaries the private cluster runs from), else from `PATH`.
fn pg_dump(database_url: &str) -> String {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin/pg_dump"))))
        .filter(|(_, p)| p.is_file())
        .collect();
    versions.sort();
    let bin = versions.pop().map(|(_, p)| p).unwrap_or_else(|| "pg_dump".into());
    let out = std::process::Command::new(bin).args(["--no-owner", "--no-privileges", "--dbname", database_url]).output().expect("run pg_dump");
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The forms a secret could take in a log or dump: as sent, upper-case, hex (bytea columns).
fn forms(secret: &str) -> Vec<String> {
    vec![secret.to_owned(), secret.to_uppercase(), hex::encode(secret.as_bytes())]
}

#[actix_web::test]
async fn no_identifier_password_or_pseudonym_key_reaches_the_log_or_the_database() {
    let log = captured_log();
    let settings = test_settings();
    let pseudonym_key = String::from_utf8(settings.pseudonym_key.clone()).unwrap();
    let app = TestApp::spawn_with(settings).await;
    let national_id = "950317401928";
    let password = "Plum-Orchard-Lantern-8841";
    let wrong_password = "Quince-Harbour-Ember-5517";

    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek 3").await;
    let admin = app.admin();
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"username": "pharmacist.aigerim", "password": password, "role": "pharmacy", "country_code": "KZ", "facility_id": pharmacy.id}),
        )
        .await
        .expect(201);
    assert!(!created.text.contains(password));
    let login = |p: &str| json!({"username": "pharmacist.aigerim", "password": p});
    app.request(Method::POST, "/api/v1/auth/login", None, Some(&login(wrong_password))).await.expect(401);
    let token = app.request(Method::POST, "/api/v1/auth/login", None, Some(&login(password))).await.expect(200).body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let pharmacist = crate::helpers::TestUser { id: 0, username: "pharmacist.aigerim".into(), token };
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&pharmacist, pharmacy.id, morphine, 50, days_ago(5)).await;
    let record = |id: &str, product: i64| {
        json!({
            "client_record_id": id, "product_id": product, "quantity_units": 2, "dispensed_at": days_ago(1),
            "patient_id": national_id, "patient_sex": "male", "patient_age": 58, "prescriber_id": "KZ-DOC-2002",
            "prescription_number": format!("RX-{id}"), "days_supply": 5, "indication": "acute"
        })
    };
    // One accepted record, one rejected (unknown product), under an idempotency key.
    let r = app
        .request_with(
            Method::POST,
            &format!("/api/v1/facilities/{}/dispensings", pharmacy.id),
            Some(&pharmacist.token),
            Some(&json!({"records": [record("s1", morphine), record("s2", 999_999)]})),
            &[("Idempotency-Key", "secrets-batch-1")],
        )
        .await
        .expect(200);
    assert_eq!((r.body["accepted"].as_i64(), r.body["rejected"].as_i64()), (Some(1), Some(1)), "{}", r.text);
    assert!(!r.text.contains(national_id));
    let listed = app.get(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &pharmacist).await.expect(200);
    assert!(!listed.text.contains(national_id));

    let logged = log.text();
    assert!(logged.contains("/api/v1/auth/login") && logged.contains("request served"), "the log was not captured");
    let dump = pg_dump(&app.database_url);
    assert!(dump.contains("pharmacist.aigerim") && dump.contains("$argon2id$"), "the dump holds the users");
    for (what, secret) in
        [("national identifier", national_id), ("password", password), ("wrong password", wrong_password), ("pseudonym key", &pseudonym_key)]
    {
        for form in forms(secret) {
            assert!(!logged.contains(&form), "the log holds the {what} ({form})");
            assert!(!dump.contains(&form), "the database dump holds the {what} ({form})");
        }
    }
}
