use awc::http::Method;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn a_replay_returns_the_first_response_and_writes_nothing_more() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("TJ");
    let body = json!({"country_code": "TJ", "name": "Sughd"});
    let headers = [("Idempotency-Key", "region-sughd-1")];
    let first = app.request_with(Method::POST, "/api/v1/regions", Some(&ministry.token), Some(&body), &headers).await.expect(201);
    let second = app.request_with(Method::POST, "/api/v1/regions", Some(&ministry.token), Some(&body), &headers).await.expect(201);
    assert_eq!(first.body, second.body);
    assert_eq!(second.header("idempotent-replayed").as_deref(), Some("true"));
    use tarozi::db::schema::{audit_events, regions};
    let count: i64 = regions::table.filter(regions::country_code.eq("TJ")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(count, 1);
    let audits: i64 = audit_events::table.filter(audit_events::action.eq("create_region")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(audits, 1);

    let other = json!({"country_code": "TJ", "name": "Khatlon"});
    let r = app.request_with(Method::POST, "/api/v1/regions", Some(&ministry.token), Some(&other), &headers).await.expect(422);
    assert_eq!(r.code(), "idempotency_key_reused");

    // Keys belong to their user: another user's identical key is a fresh request.
    let admin = app.admin();
    app.request_with(Method::POST, "/api/v1/regions", Some(&admin.token), Some(&other), &headers).await.expect(201);
}

#[actix_web::test]
async fn concurrent_requests_with_one_key_write_once() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("TJ");
    let body = json!({"country_code": "TJ", "name": "Dushanbe"});
    let headers = [("Idempotency-Key", "dushanbe")];
    let requests = (0..8).map(|_| app.request_with(Method::POST, "/api/v1/regions", Some(&ministry.token), Some(&body), &headers));
    let responses = futures_util::future::join_all(requests).await;
    let first_id = &responses[0].body["region"]["id"];
    for r in &responses {
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(&r.body["region"]["id"], first_id);
    }
    use tarozi::db::schema::regions;
    let count: i64 = regions::table.filter(regions::country_code.eq("TJ")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(count, 1);
}

#[actix_web::test]
async fn a_malformed_key_is_refused() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("TJ");
    let long = "k".repeat(300);
    let r = app
        .request_with(
            Method::POST,
            "/api/v1/regions",
            Some(&ministry.token),
            Some(&json!({"country_code": "TJ", "name": "X"})),
            &[("Idempotency-Key", &long)],
        )
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["Idempotency-Key"]);
}
