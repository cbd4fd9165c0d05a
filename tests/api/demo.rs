//! The demo world (`tarozi seed-demo`, `serve --demo`): seeded at a tiny scale through the
//! function the CLI calls, then read through HTTP as its users would.

use awc::http::Method;
use chrono::Datelike;
use serde_json::{Value, json};
use tarozi::demo::{DEMO_PASSWORD, DemoOptions, Summary};

use crate::helpers::{TestApp, test_settings};

/// A tiny world: one dispensing facility in most regions.
const TINY: f64 = 0.05;

fn options() -> DemoOptions {
    DemoOptions { scale: TINY, pseudonym_key: test_settings().pseudonym_key, now: chrono::Utc::now(), reporting_grace_days: 10, verbose: false }
}

async fn seeded() -> (TestApp, Summary) {
    let app = TestApp::spawn().await;
    let url = app.database_url.clone();
    let summary = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = diesel::Connection::establish(&url).unwrap();
        tarozi::demo::seed(&mut conn, &options()).unwrap()
    })
    .await
    .unwrap();
    (app, summary)
}

async fn login(app: &TestApp, username: &str) -> String {
    let r = app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": username, "password": DEMO_PASSWORD}))).await.expect(200);
    r.body["access_token"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    app.request(Method::GET, path, Some(token), None).await.expect(200).body
}

/// Rows of a few tables, to compare two seedings.
fn counts(app: &TestApp) -> Vec<(String, i64)> {
    use diesel::prelude::*;
    let mut conn = app.conn();
    [
        "regions",
        "facilities",
        "products",
        "users",
        "dispensings",
        "transfers",
        "inventory_counts",
        "stock_events",
        "estimates",
        "flags",
        "reporting_periods",
    ]
    .iter()
    .map(|t| {
        let n: i64 =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("(SELECT count(*) FROM {t})"))).get_result(&mut conn).unwrap();
        (t.to_string(), n)
    })
    .collect()
}

#[actix_web::test]
async fn the_demo_world_adds_up_and_tells_each_planted_story() {
    let (app, summary) = seeded().await;
    assert!(summary.dispensings > 1_000, "{summary:?}");
    let admin = login(&app, "admin").await;

    // Every country's regions add up to its population, every year.
    let countries = get(&app, "/api/v1/countries", &admin).await;
    for code in ["KZ", "KG", "TJ", "TM", "UZ"] {
        let country = countries["countries"].as_array().unwrap().iter().find(|c| c["code"] == code).unwrap();
        let national = country["population"].as_i64().unwrap();
        let regions = get(&app, &format!("/api/v1/countries/{code}/regions?per_page=100"), &admin).await;
        let regions = regions["regions"].as_array().unwrap();
        assert!(regions.len() >= 5, "{code}");
        let years: Vec<i64> = regions[0]["populations"].as_array().unwrap().iter().map(|p| p["year"].as_i64().unwrap()).collect();
        assert!(years.len() >= 3, "{code}: {years:?}");
        for year in years {
            let sum: i64 = regions
                .iter()
                .map(|r| r["populations"].as_array().unwrap().iter().find(|p| p["year"] == year).unwrap()["total"].as_i64().unwrap())
                .sum();
            assert_eq!(sum, national, "{code} {year}");
        }
        // Its authorities can sign in with the demo password.
        let ministry = login(&app, &format!("{}-ministry", code.to_lowercase())).await;
        let me = get(&app, "/api/v1/auth/me", &ministry).await;
        assert_eq!(me["user"]["country_code"], code);
        login(&app, &format!("{}-regulator", code.to_lowercase())).await;
    }
    login(&app, "regional").await;
    login(&app, "kz-pharmacy-1").await;
    login(&app, "kz-wholesaler-1").await;

    // Each story has its flag, on the facility or region it is about.
    assert_eq!(summary.stories.len(), tarozi::demo::stories::CODES.len(), "{:?}", summary.stories);
    for story in &summary.stories {
        let flags = get(&app, &format!("/api/v1/flags?country={}&rule={}&per_page=100", story.country, story.rule), &admin).await;
        let flags = flags["flags"].as_array().unwrap();
        let found = flags
            .iter()
            .any(|f| story.facility_id.is_none_or(|id| f["facility_id"] == id.get()) && story.region_id.is_none_or(|id| f["region_id"] == id.get()));
        assert!(found, "story {} has no {} flag: {flags:?}", story.code, story.rule);
    }

    // The very-low country's band, and the estimate left mostly unused.
    let last_year = chrono::Utc::now().year() - 1;
    let tj = get(&app, &format!("/api/v1/analytics/availability?country=TJ&year={last_year}"), &admin).await;
    assert_eq!(tj["total"]["band"], "very_low", "{tj}");
    let kg = get(&app, &format!("/api/v1/analytics/estimates?country=KG&year={last_year}"), &admin).await;
    let morphine = kg["substances"].as_array().unwrap().iter().find(|s| s["inn"] == "morphine").unwrap();
    let utilization: f64 = morphine["utilization_pct"].as_str().map(|s| s.parse().unwrap()).or(morphine["utilization_pct"].as_f64()).unwrap();
    assert!(utilization < 25.0, "{morphine}");
    let fentanyl = kg["substances"].as_array().unwrap().iter().find(|s| s["inn"] == "fentanyl").unwrap();
    let used: f64 = fentanyl["utilization_pct"].as_str().map(|s| s.parse().unwrap()).or(fentanyl["utilization_pct"].as_f64()).unwrap();
    assert!(used > 50.0, "{fentanyl}");

    // The ledger never went negative and every dispensing is on it.
    let mut conn = app.conn();
    use diesel::prelude::*;
    let negative: i64 =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT count(*) FROM stock_balances WHERE balance_units < 0)"))
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(negative, 0);
    let dispensed: i64 =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT count(*) FROM dispensings)")).get_result(&mut conn).unwrap();
    assert_eq!(dispensed as usize, summary.dispensings);
}

#[actix_web::test]
async fn the_demo_world_is_deterministic_and_serve_demo_leaves_data_alone() {
    let (first, a) = seeded().await;
    let (second, b) = seeded().await;
    assert_eq!(a.dispensings, b.dispensings);
    assert_eq!(a.transfers, b.transfers);
    assert_eq!(counts(&first), counts(&second));

    // `serve --demo` on a database that holds data seeds nothing; `seed-demo` refuses it.
    let before = counts(&first);
    let url = first.database_url.clone();
    let (again, refused) = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = diesel::Connection::establish(&url).unwrap();
        (tarozi::demo::seed_if_empty(&mut conn, &options()).unwrap(), tarozi::demo::seed(&mut conn, &options()).err())
    })
    .await
    .unwrap();
    assert!(again.is_none());
    assert!(refused.unwrap().to_string().contains("empty database"));
    assert_eq!(counts(&first), before);
}

/// Screenshots of the demo world for the README (`docs/screenshots/`): the ministry's
/// overview and the regulator's flags, in English and Russian. Run on demand:
/// `cargo test --test api demo_screenshots -- --ignored`.
#[actix_web::test]
#[ignore = "writes docs/screenshots/*.png; run on demand"]
async fn demo_screenshots() {
    use crate::pages_browser::{CHROMIUM, DRIVER, attr, drawn, settled, start_browser, text, url};
    use fantoccini::Locator;
    assert!(std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(DRIVER).exists(), "chromium and chromedriver are needed");
    let app = TestApp::spawn().await;
    let url_db = app.database_url.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = diesel::Connection::establish(&url_db).unwrap();
        tarozi::demo::seed(&mut conn, &DemoOptions { scale: 0.3, ..options() }).unwrap()
    })
    .await
    .unwrap();
    let base = app.address.clone();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let (_driver, client) = start_browser().await;
    let last_year = chrono::Utc::now().year() - 1;
    for (user, path, name, chart) in [
        ("kz-ministry", format!("/dashboard/overview?year={last_year}"), "ministry-overview", "regions"),
        ("kz-regulator", "/dashboard/flags".to_owned(), "regulator-flags", "counts"),
    ] {
        client.delete_all_cookies().await.unwrap();
        client.goto(&format!("{base}/dashboard/login")).await.unwrap();
        client.find(Locator::Css("#username")).await.unwrap().send_keys(user).await.unwrap();
        client.find(Locator::Css("#password")).await.unwrap().send_keys(DEMO_PASSWORD).await.unwrap();
        client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
        settled("signed in", async || url(&client).await, |u| !u.ends_with("/dashboard/login")).await;
        client.goto(&format!("{base}{path}")).await.unwrap();
        drawn(&client, chart, 0).await;
        std::fs::write(dir.join(format!("{name}-en.png")), client.screenshot().await.unwrap()).unwrap();
        client.wait().for_element(Locator::Css("#language")).await.unwrap().select_by_value("ru").await.unwrap();
        client.find(Locator::Css("#language-switch")).await.unwrap().click().await.unwrap();
        settled("Russian", async || attr(&client, "html", "lang").await, |l| l == "ru").await;
        drawn(&client, chart, 0).await;
        let _ = text(&client, "h1").await;
        std::fs::write(dir.join(format!("{name}-ru.png")), client.screenshot().await.unwrap()).unwrap();
        // Back to English for the next user.
        client.wait().for_element(Locator::Css("#language")).await.unwrap().select_by_value("en").await.unwrap();
        client.find(Locator::Css("#language-switch")).await.unwrap().click().await.unwrap();
        settled("English", async || attr(&client, "html", "lang").await, |l| l == "en").await;
    }
}
