//! Idempotency keys expire after the retention period (7 days by default).

use awc::http::Method;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

async fn create_region(app: &TestApp, user: &TestUser, name: &str, key: &str) -> crate::helpers::TestResponse {
    let body = json!({"country_code": "TJ", "name": name});
    app.request_with(Method::POST, "/api/v1/regions", Some(&user.token), Some(&body), &[("Idempotency-Key", key)]).await
}

fn age_keys(app: &TestApp, user: &TestUser, days: i64) {
    diesel::sql_query(format!("UPDATE idempotency_keys SET created_at = now() - interval '{days} days' WHERE user_id = $1"))
        .bind::<diesel::sql_types::BigInt, _>(user.id)
        .execute(&mut app.conn())
        .unwrap();
}

fn keys_of(app: &TestApp, user: &TestUser) -> i64 {
    use tarozi::db::schema::idempotency_keys;
    idempotency_keys::table.filter(idempotency_keys::user_id.eq(user.id)).count().get_result(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn a_key_past_retention_is_purged_and_can_be_used_again() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("TJ");
    create_region(&app, &ministry, "Sughd", "region-1").await.expect(201);
    create_region(&app, &ministry, "Khatlon", "region-1").await.expect(422);

    // Six days old: still within the retention, nothing purged.
    age_keys(&app, &ministry, 6);
    assert_eq!(tarozi::app::frame::purge(&mut app.conn(), 7).unwrap(), 0);
    assert_eq!(create_region(&app, &ministry, "Khatlon", "region-1").await.expect(422).code(), "idempotency_key_reused");

    age_keys(&app, &ministry, 8);
    assert_eq!(tarozi::app::frame::purge(&mut app.conn(), 7).unwrap(), 1);
    assert_eq!(keys_of(&app, &ministry), 0);
    let r = create_region(&app, &ministry, "Khatlon", "region-1").await.expect(201);
    assert_eq!(r.body["region"]["name"], "Khatlon");
    assert!(r.header("idempotent-replayed").is_none());
}

#[actix_web::test]
async fn a_key_past_retention_counts_as_unused_before_any_purge() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("TJ");
    create_region(&app, &ministry, "Sughd", "region-2").await.expect(201);
    age_keys(&app, &ministry, 8);
    create_region(&app, &ministry, "Khatlon", "region-2").await.expect(201);
    // The key now holds the new request.
    assert_eq!(keys_of(&app, &ministry), 1);
    let replay = create_region(&app, &ministry, "Khatlon", "region-2").await.expect(201);
    assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
}
