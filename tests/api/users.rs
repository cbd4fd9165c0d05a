use diesel::prelude::*;
use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::TestApp;

#[actix_web::test]
async fn admin_creates_users_bound_to_their_country_or_facility() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek").await;

    let r = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"username": "aigerim.k", "password": "a-long-password-1", "role": "pharmacy", "facility_id": pharmacy.id}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["user"]["country_code"], "KZ", "the country comes from the facility");
    assert_eq!(r.body["user"]["facility_id"], pharmacy.id);
    assert!(r.text.find("password").is_none(), "no password or hash is ever returned");

    let r = app
        .post("/api/v1/users", &admin, json!({"username": "kz.ministry", "password": "a-long-password-1", "role": "ministry", "country_code": "KZ"}))
        .await
        .expect(201);
    assert_eq!(r.body["user"]["role"], "ministry");

    let list = app.get("/api/v1/users", &admin).await.expect(200);
    assert!(list.body["users"].as_array().unwrap().iter().any(|u| u["username"] == "aigerim.k"));
    assert!(list.body["meta"]["total"].as_i64().unwrap() >= 3);

    // The new user can log in with the password given.
    let login = app
        .request(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": "aigerim.k", "password": "a-long-password-1"})))
        .await
        .expect(200);
    assert!(login.body["access_token"].is_string());
}

#[actix_web::test]
async fn user_scope_rules_are_enforced_field_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let region = app.region("KZ", "Almaty").await;
    let wholesaler = app.facility(region, FacilityKind::Wholesaler, "KazPharm").await;
    let cases = [
        (json!({"username": "p.one", "password": "a-long-password-1", "role": "pharmacy"}), "/facility_id"),
        (json!({"username": "p.two", "password": "a-long-password-1", "role": "pharmacy", "facility_id": wholesaler.id}), "/role"),
        (json!({"username": "m.one", "password": "a-long-password-1", "role": "ministry"}), "/country_code"),
        (json!({"username": "m.two", "password": "a-long-password-1", "role": "ministry", "country_code": "XX"}), "/country_code"),
        (json!({"username": "a.one", "password": "a-long-password-1", "role": "admin", "country_code": "KZ"}), "/country_code"),
        (json!({"username": "s", "password": "a-long-password-1", "role": "admin"}), "/username"),
        (json!({"username": "Upper Case", "password": "a-long-password-1", "role": "admin"}), "/username"),
        (json!({"username": "short.pw", "password": "short", "role": "admin"}), "/password"),
        (json!({"username": "bad.role", "password": "a-long-password-1", "role": "superuser"}), "/role"),
    ];
    use tarozi::db::schema::users;
    let before: i64 = users::table.count().get_result(&mut app.conn()).unwrap();
    for (body, pointer) in cases {
        let r = app.post("/api/v1/users", &admin, body.clone()).await.expect(422);
        assert_eq!(r.pointers(), vec![pointer.to_owned()], "body {body}");
    }
    let after: i64 = users::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(after, before, "nothing was written");
}

#[actix_web::test]
async fn a_taken_username_is_a_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let body = json!({"username": "kz.reg", "password": "a-long-password-1", "role": "regulator", "country_code": "KZ"});
    app.post("/api/v1/users", &admin, body.clone()).await.expect(201);
    let r = app.post("/api/v1/users", &admin, body).await.expect(409);
    assert_eq!(r.code(), "username_taken");
    assert!(!r.text.contains("duplicate key"), "database text never reaches a client");
}

#[actix_web::test]
async fn every_write_leaves_an_audit_entry_with_its_request_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .request_with(
            awc::http::Method::POST,
            "/api/v1/users",
            Some(&admin.token),
            Some(&json!({"username": "kz.reg", "password": "a-long-password-1", "role": "regulator", "country_code": "KZ"})),
            &[("X-Request-Id", "req-audit-1")],
        )
        .await
        .expect(201);
    assert_eq!(r.header("x-request-id").as_deref(), Some("req-audit-1"));
    let id = r.body["user"]["id"].as_i64().unwrap().to_string();
    let log = app.get(&format!("/api/v1/audit-events?resource_type=user&resource_id={id}"), &admin).await.expect(200);
    let entry = &log.body["audit_events"][0];
    assert_eq!(entry["action"], "create_user");
    assert_eq!(entry["user_id"], admin.id);
    assert_eq!(entry["request_id"], "req-audit-1");
    assert_eq!(entry["country_code"], "KZ");
    assert!(!log.text.contains("a-long-password-1"));
}
