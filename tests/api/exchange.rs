//! The regional exchange with two real instances in one test process: Kyrgyzstan's national
//! instance and the hub, each its own database and server on its own port.
//!
//! KG, March 2024 (31 days). Regions Chuy (900 000), Osh (300 000), Naryn (300 000):
//! 1 500 000 inhabitants. Morphine 10 mg tablets (S-DDD 100 mg, ME factor 1). Received at
//! retail: Chuy 6 200 tablets = 62 000 mg, Osh 3 100 = 31 000 mg; country 93 000 mg.
//! S-DDD per million per day: country 93 000 / 100 / 31 / 1.5 = 20; Chuy
//! 620 / 31 / 0.9 = 22.2222; Osh 310 / 31 / 0.3 = 33.3333. ME mg per capita: country
//! 93 000 / 1 500 000 = 0.062. Dispensed: Chuy 6 patients × 100 tablets = 6 000 mg, Osh
//! 2 patients × 50 tablets = 1 000 mg; Naryn nobody.
//!
//! Patients per region: Chuy 6, Osh 2, Naryn 0, country 8. Osh's 2 is a small cell; alone it
//! would be 8 − 6 − 0, so Chuy's 6 is suppressed with it: a reader learns only that Chuy and
//! Osh hold 8 together.

use std::time::Duration;

use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use tarozi::db::enums::{FacilityKind, PushStatus, Role};
use tarozi::domain::period::Month;
use tarozi::exchange::push::{PushOptions, push};
use tarozi::exchange::signing;

use crate::analytics::at;
use crate::helpers::{Facility, TEST_PASSWORD, TestApp, TestUser, WebSession, csrf_of, field_of, test_password_hash, test_settings};

const EXCHANGE_USER: &str = "kg-exchange";

fn settings(hub: bool) -> tarozi::config::Settings {
    let mut s = test_settings();
    s.backdate_days = 2000;
    s.hub = hub;
    s
}

struct Kg {
    app: TestApp,
    ministry: TestUser,
    regulator: TestUser,
    chuy_pharmacy: Facility,
    chuy_user: TestUser,
    osh_pharmacy: Facility,
    osh_user: TestUser,
    naryn: i64,
    morphine: i64,
    /// The ids of Chuy's six dispensings.
    chuy_dispensings: Vec<i64>,
}

/// Dispenses `units` to each patient of `patients` on `day` of March 2024; the records' ids.
async fn dispense(
    app: &TestApp,
    pharmacy: &Facility,
    user: &TestUser,
    product: i64,
    patients: std::ops::Range<i64>,
    units: i64,
    day: u32,
) -> Vec<i64> {
    let records: Vec<Value> = patients
        .map(|p| {
            json!({
                "client_record_id": format!("{}-{p}", pharmacy.id), "product_id": product, "quantity_units": units, "dispensed_at": at(2024, 3, day),
                "patient_id": format!("KG-{p}"), "patient_sex": "female", "patient_age": 60, "prescriber_id": "KG-DOC-1",
                "prescription_number": format!("RX-{p}"), "days_supply": 30, "indication": "cancer"
            })
        })
        .collect();
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), user, json!({"records": records})).await.expect(200);
    assert_eq!(r.body["rejected"], 0, "{}", r.text);
    r.body["results"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
}

/// The hub's `exchange` user of KG, with a token.
fn exchange_user(hub: &TestApp) -> TestUser {
    use tarozi::db::schema::users as u;
    let id: i64 = u::table.filter(u::username.eq(EXCHANGE_USER)).select(u::id).first(&mut hub.conn()).unwrap();
    TestUser { id, username: EXCHANGE_USER.into(), token: hub.token_for(id, Role::Exchange, Some("KG"), None, 900) }
}

/// KG's instance with March 2024 as in the module comment, sharing every section but flags.
async fn kg() -> Kg {
    let app = TestApp::spawn_with(settings(false)).await;
    let ministry = app.ministry("KG");
    let regulator = app.regulator("KG");
    let chuy = app.region("KG", "Chuy").await;
    let osh = app.region("KG", "Osh").await;
    let naryn = app.region("KG", "Naryn").await;
    for (region, total) in [(chuy, 900_000), (osh, 300_000), (naryn, 300_000)] {
        app.put(&format!("/api/v1/regions/{region}/population"), &ministry, json!({"year": 2024, "total": total})).await.expect(200);
    }
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let chuy_pharmacy = app.facility(chuy, FacilityKind::Pharmacy, "Chuy pharmacy").await;
    let osh_pharmacy = app.facility(osh, FacilityKind::Pharmacy, "Osh pharmacy").await;
    let (chuy_user, osh_user) = (app.facility_user(&chuy_pharmacy), app.facility_user(&osh_pharmacy));
    app.stock_up(&chuy_user, chuy_pharmacy.id, morphine, 6_200, at(2024, 3, 2)).await;
    app.stock_up(&osh_user, osh_pharmacy.id, morphine, 3_100, at(2024, 3, 2)).await;
    let chuy_dispensings = dispense(&app, &chuy_pharmacy, &chuy_user, morphine, 0..6, 100, 10).await;
    dispense(&app, &osh_pharmacy, &osh_user, morphine, 100..102, 50, 12).await;
    // Off by default: nothing shared until the regulator says so.
    let r = app.get("/api/v1/exchange/policy", &regulator).await.expect(200);
    assert_eq!((&r.body["policy"]["shared"], r.body["policy"]["withheld"].as_array().map(Vec::len)), (&json!([]), Some(5)));
    let r = app.put("/api/v1/exchange/policy", &regulator, json!({"shared": ["availability", "reporting", "access", "estimates"]})).await.expect(200);
    assert_eq!(r.body["policy"]["withheld"], json!(["flags"]));
    Kg { app, ministry, regulator, chuy_pharmacy, chuy_user, osh_pharmacy, osh_user, naryn, morphine, chuy_dispensings }
}

/// What the hub's admin does for a country to join: creates its `exchange` credential and
/// registers its public key, through the API. Registering the same key again is refused.
async fn enrol_through_api(hub: &TestApp, key: &SigningKey) {
    let admin = hub.admin();
    let user = json!({"username": EXCHANGE_USER, "password": TEST_PASSWORD, "role": "exchange", "country_code": "KG"});
    let r = hub.post("/api/v1/users", &admin, user).await.expect(201);
    assert_eq!(r.body["user"]["role"], "exchange");
    let body = json!({"country_code": "KG", "public_key": signing::public_key_hex(key)});
    let r = hub.post("/api/v1/exchange/keys", &admin, body.clone()).await.expect(201);
    assert_eq!(
        (r.body["exchange_key"]["country_code"].as_str(), r.body["exchange_key"]["public_key"].as_str()),
        (Some("KG"), Some(signing::public_key_hex(key).as_str()))
    );
    assert_eq!(hub.post("/api/v1/exchange/keys", &admin, body).await.expect(409).code(), "exchange_key_exists");
    let r = hub.get("/api/v1/exchange/keys", &admin).await.expect(200);
    assert_eq!(r.body["exchange_keys"].as_array().map(Vec::len), Some(1));
}

/// The hub's rows a country needs, written before the hub's server starts (for a hub that
/// is down when the push begins): its `exchange` user and its registered public key.
fn enrol(conn: &mut PgConnection, key: &SigningKey) {
    use tarozi::db::models::user::{NewUser, User};
    User::create(
        conn,
        &NewUser { username: EXCHANGE_USER, password_hash: test_password_hash(), role: Role::Exchange, country_code: Some("KG"), facility_id: None },
    )
    .unwrap();
    tarozi::db::models::exchange::ExchangeKey::register(conn, "KG", &key.verifying_key().to_bytes(), None).unwrap();
}

fn options(hub: &TestApp) -> PushOptions {
    let mut o = PushOptions::new(&hub.address, EXCHANGE_USER, TEST_PASSWORD, "KG", Month::parse("2024-03").unwrap(), 10);
    o.attempts = 3;
    o.backoff = Duration::from_millis(50);
    o
}

fn packages_on(hub: &TestApp) -> Vec<(i64, i64, Option<i64>)> {
    use tarozi::db::schema::exchange_packages as p;
    p::table.order(p::id).select((p::id, p::sequence, p::superseded_by)).load(&mut hub.conn()).unwrap()
}

/// The last envelope KG recorded for March.
fn last_envelope(kg: &TestApp) -> Value {
    use tarozi::db::schema::exchange_pushes as p;
    p::table.order(p::sequence.desc()).select(p::envelope).first(&mut kg.conn()).unwrap()
}

fn region<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no region {name} in {list}"))
}

#[actix_web::test]
async fn the_hub_shows_exactly_the_figures_of_kgs_own_availability_report() {
    let kg = kg().await;
    let key = signing::generate();
    let hub = TestApp::spawn_with(settings(true)).await;
    enrol_through_api(&hub, &key).await;

    let outcome = push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap();
    assert_eq!(outcome.status, PushStatus::Delivered, "{}", outcome.answer);
    assert_eq!(outcome.sequence, 1);

    let own = kg.app.get("/api/v1/analytics/availability?country=KG&from=2024-03-01&to=2024-03-31", &kg.ministry).await.expect(200).body;
    let view = hub.get("/api/v1/analytics/regional?year=2024", &hub.regional()).await.expect(200).body;
    assert_eq!(view["source"], "packages");
    let kg_view = view["exchange"].as_array().unwrap().iter().find(|c| c["country"] == "KG").unwrap();
    let march = kg_view["months"].as_array().unwrap().iter().find(|m| m["month"] == "2024-03").unwrap();
    assert_eq!(march["status"], "partial");
    assert_eq!(march["withheld"], json!(["flags"]));
    assert_eq!(kg_view["withheld_months"], json!(["2024-03"]));
    let missing: Vec<&str> = kg_view["missing_months"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert_eq!(missing.len(), 11, "every other month of 2024 is missing: {missing:?}");
    assert!(!missing.contains(&"2024-03"));
    let a = &march["package"]["availability"];

    // Hand-computed (module comment), and equal to what KG's ministry reads at home.
    assert_eq!(a["total"]["consumption_mg_base"], json!(93000));
    assert_eq!(a["total"]["dispensed_mg_base"], json!(7000));
    assert_eq!(a["total"]["sddd_per_million_per_day"], json!(20));
    assert_eq!(a["total"]["me_mg_per_capita"], json!(0.062));
    assert_eq!(region(&a["regions"], "Chuy")["figures"]["sddd_per_million_per_day"], json!(22.2222));
    assert_eq!(region(&a["regions"], "Osh")["figures"]["sddd_per_million_per_day"], json!(33.3333));
    assert_eq!(region(&a["regions"], "Osh")["figures"]["consumption_mg_base"], json!(31000));
    let figures = [
        "consumption_mg_base",
        "dispensed_mg_base",
        "sddd_per_million_per_day",
        "me_mg_per_capita",
        "dispensed_sddd_per_million_per_day",
        "dispensed_me_mg_per_capita",
        "band",
    ];
    for f in figures {
        assert_eq!(a["total"][f], own["total"][f], "total {f}");
        for r in own["regions"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            assert_eq!(region(&a["regions"], name)["figures"][f], r[f], "{name} {f}");
        }
    }
    assert_eq!(a["population"], own["population"]);
    for s in own["substances"].as_array().unwrap() {
        let line = a["substances"].as_array().unwrap().iter().find(|x| x["inn"] == s["inn"]).unwrap();
        for f in ["consumption_mg_base", "dispensed_mg_base", "sddd_per_million_per_day", "me_mg_per_capita"] {
            assert_eq!(line[f], s[f], "{} {f}", s["inn"]);
        }
    }

    // Small cells: Osh's 2 patients suppressed, Chuy's 6 with it; Naryn's 0 and the total shown.
    let suppressed = json!({"value": null, "suppressed": true});
    assert_eq!(region(&a["regions"], "Osh")["patients"], suppressed);
    assert_eq!(region(&a["regions"], "Chuy")["patients"], suppressed);
    assert_eq!(region(&a["regions"], "Naryn")["patients"], json!({"value": 0, "suppressed": false}));
    assert_eq!(a["patients"], json!({"value": 8, "suppressed": false}));
    let shown: i64 = a["regions"].as_array().unwrap().iter().filter_map(|r| r["patients"]["value"].as_i64()).sum();
    let hidden = a["regions"].as_array().unwrap().iter().filter(|r| r["patients"]["suppressed"] == true).count();
    // 8 − 0 = 8 spread over two hidden cells: neither can be derived.
    assert_eq!((8 - shown, hidden), (8, 2));
    // One dispensing facility in Chuy and one in Osh: both small, and so is their total of 2.
    let access = &march["package"]["access"];
    assert_eq!(region(&access["regions"], "Osh")["dispensing_facilities"], suppressed);
    assert_eq!(region(&access["regions"], "Osh")["per_100k"], Value::Null);
    assert_eq!(access["total"]["dispensing_facilities"], suppressed);
    // Nothing below region level crossed: no facility or patient member anywhere.
    let text = march["package"].to_string();
    for word in ["facility_id", "patient_id", "pseudonym", "prescriber", "Chuy pharmacy"] {
        assert!(!text.contains(word), "{word} in {text}");
    }

    // The sections as shared: reporting (nobody closed March; one pharmacy each in Chuy and
    // Osh, small cells, and so their total), estimates of 2024; flags withheld, so absent.
    let package = &march["package"];
    assert_eq!((&package["shared"], &package["withheld"]), (&json!(["availability", "reporting", "access", "estimates"]), &json!(["flags"])));
    assert_eq!(package["flags"], Value::Null);
    let reporting = &package["reporting"];
    assert_eq!(reporting["grace_days"], 10);
    assert_eq!(region(&reporting["regions"], "Osh")["facilities"], suppressed);
    assert_eq!(region(&reporting["regions"], "Chuy")["facilities"], suppressed);
    assert_eq!(region(&reporting["regions"], "Naryn")["facilities"], json!({"value": 0, "suppressed": false}));
    assert_eq!(reporting["total"]["facilities"], suppressed);
    assert_eq!(reporting["total"]["closed_on_time"], json!({"value": 0, "suppressed": false}));
    assert_eq!(reporting["total"]["completeness_pct"], Value::Null);
    assert_eq!(package["estimates"]["year"], 2024);
    assert_eq!(package["schema_version"], 2);

    // Pushing the unchanged month again re-sends the same package: no duplicate.
    let again = push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap();
    assert_eq!((again.status, again.sequence, again.replayed), (PushStatus::Delivered, 1, true));
    assert_eq!(packages_on(&hub).len(), 1);

    // A correction: one more Chuy patient (100 tablets) → sequence 2 supersedes 1, kept.
    dispense(&kg.app, &kg.chuy_pharmacy, &kg.chuy_user, kg.morphine, 6..7, 100, 20).await;
    let corrected = push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap();
    assert_eq!((corrected.status, corrected.sequence, corrected.replayed), (PushStatus::Delivered, 2, false));
    let rows = packages_on(&hub);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].2, Some(rows[1].0), "the first package is kept, superseded by the correction");
    assert_eq!(rows[1].2, None);
    let view = hub.get("/api/v1/analytics/regional?year=2024", &hub.regional()).await.expect(200).body;
    let kg_view = view["exchange"].as_array().unwrap().iter().find(|c| c["country"] == "KG").unwrap();
    let march = kg_view["months"].as_array().unwrap().iter().find(|m| m["month"] == "2024-03").unwrap();
    assert_eq!((march["sequence"].as_i64(), march["superseded_versions"].as_i64()), (Some(2), Some(1)));
    // 7 000 + 1 000 mg dispensed.
    assert_eq!(march["package"]["availability"]["total"]["dispensed_mg_base"], json!(8000));
}

#[actix_web::test]
async fn the_hub_refuses_a_changed_number_a_facility_id_an_unknown_key_another_country_and_an_old_sequence() {
    let kg = kg().await;
    let key = signing::generate();
    let hub = TestApp::spawn_with(settings(true)).await;
    enrol_through_api(&hub, &key).await;
    assert_eq!(push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap().status, PushStatus::Delivered);
    let envelope = last_envelope(&kg.app);
    let exchange = exchange_user(&hub);
    let post = |body: Value| {
        let hub = &hub;
        let exchange = exchange.clone();
        async move { hub.post("/api/v1/exchange/packages", &exchange, body).await }
    };
    let resign = |package: &Value, key: &SigningKey| {
        let package: tarozi::exchange::package::Package = serde_json::from_value(package.clone()).unwrap();
        json!({"public_key": signing::public_key_hex(key), "signature": signing::sign(key, &package).unwrap(), "package": package})
    };

    // One number changed: 93 000 → 93 001 mg.
    let mut changed = envelope.clone();
    changed["package"]["availability"]["total"]["consumption_mg_base"] = json!(93001);
    let r = post(changed).await.expect(422);
    assert_eq!(r.code(), "bad_signature");

    // A facility id in a region line: refused by the schema, pointing at it.
    let mut with_facility = envelope.clone();
    with_facility["package"]["availability"]["regions"][0]["facility_id"] = json!(kg.chuy_pharmacy.id);
    let r = post(with_facility).await.expect(422);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.pointers(), vec!["/package/availability/regions/0/facility_id".to_owned()]);

    // Signed with a key the hub never registered.
    let mut next = envelope["package"].clone();
    next["sequence"] = json!(5);
    let r = post(resign(&next, &signing::generate())).await.expect(422);
    assert_eq!(r.code(), "unknown_key");

    // KG's key signing a package for Tajikistan.
    let mut tj = next.clone();
    tj["country"] = json!("TJ");
    let r = post(resign(&tj, &key)).await.expect(422);
    assert_eq!(r.code(), "country_mismatch");

    // Sequence 1 again with other content, and sequence 0: both not above 1.
    let mut same_sequence = envelope["package"].clone();
    same_sequence["generated_at"] = json!("2030-01-01T00:00:00Z");
    let r = post(resign(&same_sequence, &key)).await.expect(409);
    assert_eq!((r.code(), r.body["last_sequence"].as_i64()), ("stale_sequence", Some(1)));
    let mut older = envelope["package"].clone();
    older["sequence"] = json!(0);
    assert_eq!(post(resign(&older, &key)).await.expect(409).code(), "stale_sequence");

    // The very package again is a replay (200), stored once.
    let r = post(envelope.clone()).await.expect(200);
    assert_eq!(r.body["package"]["replayed"], true);
    // And sequence 5, properly signed, is accepted.
    post(resign(&next, &key)).await.expect(201);
    assert_eq!(packages_on(&hub).len(), 2);

    // Only the hub receives packages; only KG's regulator sets KG's policy.
    let r = kg.app.post("/api/v1/exchange/packages", &kg.app.user(Role::Exchange, Some("KG"), None), envelope).await.expect(404);
    assert_eq!(r.code(), "not_a_hub");
    kg.app.put("/api/v1/exchange/policy", &kg.ministry, json!({"shared": []})).await.expect(403);
    let r = kg.app.put("/api/v1/exchange/policy", &kg.regulator, json!({"shared": ["patients"]})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/shared/0".to_owned()]);
    let r = kg.app.get("/api/v1/exchange/policy", &kg.regulator).await.expect(200);
    assert_eq!(r.body["policy"]["shared"], json!(["availability", "reporting", "access", "estimates"]));
}

#[actix_web::test]
async fn a_push_while_the_hub_is_down_succeeds_on_retry_without_a_duplicate() {
    let kg = kg().await;
    let key = signing::generate();
    // A port nobody listens on yet: the hub is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let mut o = PushOptions::new(&format!("http://{address}"), EXCHANGE_USER, TEST_PASSWORD, "KG", Month::parse("2024-03").unwrap(), 10);
    o.attempts = 60;
    o.backoff = Duration::from_millis(100);
    o.max_backoff = Duration::from_millis(200);
    let (pool, k, opts) = (kg.app.shared.state.pool.clone(), key.clone(), o.clone());
    let pushing = actix_web::rt::spawn(async move { push(&pool, &k, &opts).await });
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert!(!pushing.is_finished());
    {
        use tarozi::db::schema::exchange_pushes as p;
        let (status, attempts): (String, i32) = p::table.select((p::status, p::attempts)).first(&mut kg.app.conn()).unwrap();
        assert_eq!(status, "pending");
        assert!(attempts >= 2, "failed attempts are recorded: {attempts}");
    }
    // The hub comes up.
    let k = key.clone();
    let hub = TestApp::spawn_on(settings(true), &address, move |conn| enrol(conn, &k)).await;
    let outcome = pushing.await.unwrap().unwrap();
    assert_eq!(outcome.status, PushStatus::Delivered, "{}", outcome.answer);
    assert!(outcome.attempts >= 3, "{}", outcome.attempts);
    assert_eq!(packages_on(&hub).len(), 1);
    {
        use tarozi::db::schema::exchange_pushes as p;
        let rows: Vec<(String, i32, Option<String>)> = p::table.select((p::status, p::attempts, p::last_error)).load(&mut kg.app.conn()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].0.as_str(), rows[0].1 as u32, rows[0].2.as_deref()), ("delivered", outcome.attempts, None));
    }
    // Its answer lost, KG retries: the same package (same sequence, same key) is a replay.
    let again = push(&kg.app.shared.state.pool, &key, &o).await.unwrap();
    assert_eq!((again.status, again.sequence, again.replayed), (PushStatus::Delivered, outcome.sequence, true));
    assert_eq!(packages_on(&hub).len(), 1);
}

/// The rows of a CSV download, each as (column → value).
fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect()).collect()
}

/// A JSON number (or string) as the CSV writes it: every digit, no exponent.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[actix_web::test]
async fn the_hubs_regional_page_shows_kgs_own_figures_and_marks_missing_months_and_withheld_sections() {
    let kg = kg().await;
    // Codeine, a basket substance without an S-DDD, reaches Osh in March: KG's S-DDD total
    // leaves it out and says so (incomplete, band provisional), and so must the package.
    let codeine = kg
        .app
        .labelled_product("codeine", "Codeine phosphate 30 mg tablet", "22.101", Some(("30", "codeine phosphate hemihydrate")), "tablet", "tablet")
        .await;
    kg.app.stock_up(&kg.osh_user, kg.osh_pharmacy.id, codeine, 5_000, at(2024, 3, 3)).await;
    // One of Chuy's six dispensings was keyed for the wrong patient and reversed: 7 patients.
    let reversed = kg.chuy_dispensings[0];
    kg.app.post(&format!("/api/v1/stock-events/{reversed}/reversal"), &kg.chuy_user, json!({"reason": "wrong patient"})).await.expect(201);

    let key = signing::generate();
    let hub = TestApp::spawn_with(settings(true)).await;
    enrol_through_api(&hub, &key).await;
    assert_eq!(push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap().status, PushStatus::Delivered);

    let own = kg.app.get("/api/v1/analytics/availability?country=KG&from=2024-03-01&to=2024-03-31", &kg.ministry).await.expect(200).body;
    assert_eq!((&own["total"]["incomplete"], &own["total"]["band_provisional"]), (&json!(true), &json!(true)), "{}", own["total"]);
    assert_eq!(own["total"]["missing_substances"], json!([{"inn": "codeine", "consumption_mg_base": 110505}]));

    // The API: the package carries the incompleteness, and the reversed dispensing names nobody.
    let view = hub.get("/api/v1/analytics/regional?year=2024", &hub.regional()).await.expect(200).body;
    let kg_view = view["exchange"].as_array().unwrap().iter().find(|c| c["country"] == "KG").unwrap();
    let march = kg_view["months"].as_array().unwrap().iter().find(|m| m["month"] == "2024-03").unwrap();
    let a = &march["package"]["availability"];
    for f in ["incomplete", "band_provisional", "missing_substances", "band", "sddd_per_million_per_day", "consumption_mg_base"] {
        assert_eq!(a["total"][f], own["total"][f], "total {f}");
    }
    assert_eq!(region(&a["regions"], "Osh")["figures"]["incomplete"], true);
    assert_eq!(region(&a["regions"], "Chuy")["figures"]["incomplete"], false, "no codeine in Chuy");
    assert_eq!(a["patients"], json!({"value": 7, "suppressed": false}), "the reversed dispensing's patient is not counted");

    // The page, signed in through the login form as the hub's regional user.
    let session = WebSession::signed_in(&hub, &hub.regional()).await;
    let page = session.get("/dashboard/regional?year=2024").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("the figures are those of the packages the countries sent"), "{}", page.text);
    assert!(page.text.contains("data-chart=\"months\""));
    let csv = session.get("/dashboard/regional.csv?year=2024&table=months").await;
    assert_eq!(csv.status, 200);
    let rows = csv_rows(&csv.text);
    let row = |month: &str| {
        rows.iter().find(|r| r["country"] == "Kyrgyzstan" && r["month"] == month).unwrap_or_else(|| panic!("no {month} in {}", csv.text))
    };
    // Exactly KG's own figures for March, from its own availability report.
    let m = row("2024-03");
    for f in ["consumption_mg_base", "sddd_per_million_per_day", "me_mg_per_capita", "band"] {
        assert_eq!(m[f], plain(&own["total"][f]), "{f}");
    }
    assert_eq!((m["status"].as_str(), m["withheld"].as_str()), ("partial", "flags"));
    assert_eq!(m["sddd_missing_substances"], "codeine:110505");
    assert_eq!(m["sequence"], "1");
    // April was never sent: missing, no figures.
    let april = row("2024-04");
    assert_eq!((april["status"].as_str(), april["consumption_mg_base"].as_str(), april["sequence"].as_str()), ("missing", "", ""));
    assert_eq!(rows.iter().filter(|r| r["country"] == "Kyrgyzstan").count(), 12);
    // Per country: what was received, what is missing, which sections were withheld.
    let coverage = csv_rows(&session.get("/dashboard/regional.csv?year=2024&table=coverage").await.text);
    let kg_line = coverage.iter().find(|r| r["country"] == "Kyrgyzstan").unwrap();
    assert_eq!((kg_line["received"].as_str(), kg_line["withheld_months"].as_str()), ("1", "2024-03:flags"));
    assert!(kg_line["missing_months"].starts_with("2024-01;2024-02;2024-04;"), "{}", kg_line["missing_months"]);
    // And the page says so in words, beside the same rows.
    for words in ["received, sections withheld", "2024-03: flag counts", "missing", "(provisional)", "codeine: 110,505 mg base without an S-DDD"] {
        assert!(page.text.contains(words), "{words} not on the page");
    }
    let link = page.text.split("class=\"csv\" href=\"").nth(1).and_then(|x| x.split('"').next()).unwrap_or_default();
    assert!(link.starts_with("/dashboard/regional.csv?year=2024") && link.ends_with("table=months"), "the CSV link of the table: {link}");
    // The regional user sees nothing else on the hub.
    assert_eq!(session.get("/dashboard/exchange").await.status, 403);
}

#[actix_web::test]
async fn a_month_is_over_and_closed_on_time_on_kgs_own_days_not_on_utcs() {
    let kg = kg().await;
    let key = signing::generate();
    let hub = TestApp::spawn_with(settings(true)).await;
    enrol_through_api(&hub, &key).await;

    // 31 March 2024 19:00 UTC is 1 April 01:00 in Bishkek (UTC+6): March is over at home.
    let mut early = options(&hub);
    early.now = Some(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 3, 31, 19, 0, 0).unwrap());
    let outcome = push(&kg.app.shared.state.pool, &key, &early).await.unwrap();
    assert_eq!((outcome.status, outcome.sequence), (PushStatus::Delivered, 1), "{}", outcome.answer);
    // An hour before Bishkek's midnight it is not.
    let mut too_early = options(&hub);
    too_early.now = Some(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 3, 31, 17, 0, 0).unwrap());
    let refused = push(&kg.app.shared.state.pool, &key, &too_early).await.unwrap_err();
    assert!(refused.to_string().contains("has not ended"), "{refused}");

    // Ten Naryn pharmacies close March with a zero report; March is due by 10 April (10
    // grace days). Five closed at 17:00 UTC on 10 April (23:00 in Bishkek, on time), five at
    // 20:00 UTC (02:00 on 11 April in Bishkek: late, though still 10 April in UTC). The API
    // stamps a closing with the server's time, so these past closings are written directly.
    for i in 0..10 {
        use tarozi::db::models::reporting_period::ReportingPeriod;
        let pharmacy = kg.app.facility(kg.naryn, FacilityKind::Pharmacy, &format!("Naryn pharmacy {i}")).await;
        let hour = if i < 5 { 17 } else { 20 };
        let closed_at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 4, 10, hour, 0, 0).unwrap();
        let row = ReportingPeriod {
            facility_id: tarozi::domain::ids::FacilityId(pharmacy.id),
            period: chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            country_code: "KG".into(),
            zero_report: true,
            dispensing_count: 0,
            closed_at,
            closed_by: None,
        };
        ReportingPeriod::close(&mut kg.app.conn(), &row).unwrap();
    }
    let outcome = push(&kg.app.shared.state.pool, &key, &options(&hub)).await.unwrap();
    assert_eq!((outcome.status, outcome.sequence), (PushStatus::Delivered, 2), "{}", outcome.answer);
    let view = hub.get("/api/v1/analytics/regional?year=2024", &hub.regional()).await.expect(200).body;
    let kg_view = view["exchange"].as_array().unwrap().iter().find(|c| c["country"] == "KG").unwrap();
    let march = kg_view["months"].as_array().unwrap().iter().find(|m| m["month"] == "2024-03").unwrap();
    let reporting = &march["package"]["reporting"];
    assert_eq!(region(&reporting["regions"], "Naryn")["closed_on_time"], json!({"value": 5, "suppressed": false}), "{reporting}");
    assert_eq!(reporting["total"]["closed_on_time"], json!({"value": 5, "suppressed": false}));
}

async fn policy_audits(app: &TestApp, user: &TestUser) -> Value {
    app.get("/api/v1/audit-events?action=put_exchange_policy", user).await.expect(200).body
}

#[actix_web::test]
async fn the_regulator_sets_the_sharing_policy_through_the_dashboard_form() {
    let app = TestApp::spawn_with(settings(false)).await;
    let regulator = app.regulator("KG");
    let session = WebSession::signed_in(&app, &regulator).await;
    let page = session.get("/dashboard/exchange").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("href=\"/dashboard/exchange\""), "the navigation links the page");
    assert!(page.text.contains("No policy has been set yet: nothing is shared."));
    assert!(!page.text.contains(" checked"), "off by default");
    let (token, idem) = (csrf_of(&page.text), field_of(&page.text, "idem"));
    let form = [("csrf", token.as_str()), ("idem", idem.as_str()), ("shared", "flags"), ("shared", "availability")];
    let r = session.post_form("/dashboard/exchange/policy", &form).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/dashboard/exchange")), "{}", r.text);
    // The API reads what the form set.
    let policy = app.get("/api/v1/exchange/policy", &regulator).await.expect(200).body;
    assert_eq!(policy["policy"]["shared"], json!(["availability", "flags"]));
    assert_eq!(policy["policy"]["withheld"], json!(["reporting", "access", "estimates"]));
    assert_eq!(policy["policy"]["updated_by"], regulator.id);
    let page = session.get("/dashboard/exchange").await;
    assert!(page.text.contains("The sharing policy was saved."));
    assert!(page.text.contains("value=\"availability\" checked") && page.text.contains("value=\"flags\" checked"));
    assert!(!page.text.contains("value=\"reporting\" checked"));
    // Audited once, as the API's command audits it; the same form again is a replay.
    let a = policy_audits(&app, &regulator).await;
    assert_eq!(a["meta"]["total"], 1, "{a}");
    assert_eq!(a["audit_events"][0]["details"]["shared"], json!(["availability", "flags"]));
    assert_eq!(session.post_form("/dashboard/exchange/policy", &form).await.status, 303);
    assert_eq!(policy_audits(&app, &regulator).await["meta"]["total"], 1, "a replay writes nothing");

    // Without the session's token: refused, nothing changed.
    let r = session.post_form("/dashboard/exchange/policy", &[("idem", "other1"), ("shared", "reporting")]).await;
    assert_eq!(r.status, 403);
    let r = session.post_form("/dashboard/exchange/policy", &[("csrf", &"0".repeat(64)), ("idem", "other2"), ("shared", "reporting")]).await;
    assert_eq!(r.status, 403);
    // A section the package does not have: the field named, nothing changed.
    let r = session.post_form("/dashboard/exchange/policy", &[("csrf", &token), ("idem", "other3"), ("shared", "patients")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("/shared/0"), "{}", r.text);
    assert_eq!(app.get("/api/v1/exchange/policy", &regulator).await.expect(200).body["policy"]["shared"], json!(["availability", "flags"]));

    // Emptying the form shares nothing again.
    let r = session.post_form("/dashboard/exchange/policy", &[("csrf", &token), ("idem", "other4")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.get("/api/v1/exchange/policy", &regulator).await.expect(200).body["policy"]["shared"], json!([]));

    // The ministry may not: 403 on the page and on the form, even with its own valid token.
    let ministry = app.ministry("KG");
    let m = WebSession::signed_in(&app, &ministry).await;
    let overview = m.get("/dashboard/overview").await;
    assert!(!overview.text.contains("href=\"/dashboard/exchange\""), "no link for a role the policy refuses");
    assert_eq!(m.get("/dashboard/exchange").await.status, 403);
    let r = m.post_form("/dashboard/exchange/policy", &[("csrf", &csrf_of(&overview.text)), ("idem", "m1"), ("shared", "flags")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.get("/api/v1/exchange/policy", &regulator).await.expect(200).body["policy"]["shared"], json!([]));

    // In Russian.
    let r = session.post_form("/dashboard/language", &[("csrf", &token), ("language", "ru"), ("back", "/dashboard/exchange")]).await;
    assert_eq!(r.status, 303);
    let ru = session.get("/dashboard/exchange").await;
    assert_eq!(ru.status, 200);
    assert!(
        ru.text.contains("<html lang=\"ru\">") && ru.text.contains("Обмен с региональным узлом") && ru.text.contains("число сигналов"),
        "{}",
        ru.text
    );
}
