//! Manual scans answer 202 at once and run in the background.

use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{TestApp, days_ago};

fn period() -> serde_json::Value {
    json!({"country_code": "KZ", "from": days_ago(10).date_naive(), "to": days_ago(0).date_naive()})
}

#[actix_web::test]
async fn a_scan_is_accepted_running_and_completes_in_the_background() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let r = app.post("/api/v1/diversion/scans", &regulator, period()).await.expect(202);
    let scan = &r.body["scan"];
    assert_eq!(scan["status"], "running");
    assert!(scan["finished_at"].is_null());
    assert!(scan["started_at"].is_string());
    let id = scan["id"].as_i64().unwrap();
    let location = r.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/diversion/scans/{id}"));

    let done = app.wait_for_scan(&regulator, &location).await;
    let scan = &done.body["scan"];
    assert_eq!(scan["status"], "completed", "{}", done.text);
    assert_eq!(scan["id"], id);
    assert!(scan["finished_at"].is_string());
    assert!(scan["flags_raised"].is_i64() && scan["flags_updated"].is_i64());
    assert!(!scan["rules"].as_array().unwrap().is_empty());

    let mut conn = app.conn();
    let actions: Vec<String> = diesel::sql_query("SELECT action FROM audit_events WHERE resource_type = 'scan' AND resource_id = $1 ORDER BY id")
        .bind::<diesel::sql_types::Text, _>(id.to_string())
        .load::<Action>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["create_scan", "complete_scan"]);
}

#[derive(QueryableByName)]
struct Action {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
}

#[actix_web::test]
async fn a_replayed_scan_request_answers_the_same_scan_and_starts_nothing() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let key = [("Idempotency-Key", "scan-once-1")];
    let first = app.request_with(awc::http::Method::POST, "/api/v1/diversion/scans", Some(&regulator.token), Some(&period()), &key).await.expect(202);
    let again = app.request_with(awc::http::Method::POST, "/api/v1/diversion/scans", Some(&regulator.token), Some(&period()), &key).await.expect(202);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.body["scan"]["id"], again.body["scan"]["id"]);
    assert_eq!(first.header("location"), again.header("location"));
    app.wait_for_scan(&regulator, &first.header("location").unwrap()).await;
    let scans: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM scans").get_result(&mut app.conn()).unwrap();
    assert_eq!(scans, 1);
    let mut other = period();
    other["from"] = json!(days_ago(5).date_naive());
    app.request_with(awc::http::Method::POST, "/api/v1/diversion/scans", Some(&regulator.token), Some(&other), &key).await.expect(422);
}

#[actix_web::test]
async fn a_scan_is_read_by_the_regulator_of_its_country_only() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let done = app.scan(&regulator, period()).await;
    let location = format!("/api/v1/diversion/scans/{}", done.body["scan"]["id"]);
    app.get(&location, &app.regulator("UZ")).await.expect(404);
    app.get(&location, &app.ministry("KZ")).await.expect(403);
    app.get("/api/v1/diversion/scans/999999", &regulator).await.expect(404);
}

#[actix_web::test]
async fn a_scan_left_running_by_a_stopped_process_is_marked_failed() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let mut conn = app.conn();
    let insert = |minutes: i32| {
        diesel::sql_query(
            "INSERT INTO scans (country_code, period_from, period_to, trigger, requested_by, started_at) \
             VALUES ('KZ', current_date - 3, current_date, 'manual', $1, now() - make_interval(mins => $2)) RETURNING id",
        )
        .bind::<diesel::sql_types::BigInt, _>(regulator.id)
        .bind::<diesel::sql_types::Integer, _>(minutes)
        .get_result::<Id>(&mut app.conn())
        .unwrap()
        .id
    };
    let (old, recent) = (insert(30), insert(1));
    assert_eq!(tarozi::db::models::scan::Scan::fail_abandoned(&mut conn, tarozi::startup::ABANDONED_SCAN_MINUTES).unwrap(), 1);
    let old = app.get(&format!("/api/v1/diversion/scans/{old}"), &regulator).await.expect(200);
    assert_eq!(old.body["scan"]["status"], "failed");
    assert!(old.body["scan"]["finished_at"].is_string());
    let recent = app.get(&format!("/api/v1/diversion/scans/{recent}"), &regulator).await.expect(200);
    assert_eq!(recent.body["scan"]["status"], "running");
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}
