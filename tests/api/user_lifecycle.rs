//! User lifecycle through HTTP: deactivation and activation, changing one's own password,
//! and an admin's password reset that forces a change at next login.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TEST_PASSWORD, TestApp, TestResponse, TestUser};

async fn login(app: &TestApp, username: &str, password: &str) -> TestResponse {
    app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": username, "password": password}))).await
}

async fn audit_actions(app: &TestApp, admin: &TestUser, user_id: i64) -> Vec<String> {
    let r = app.get(&format!("/api/v1/audit-events?resource_type=user&resource_id={user_id}"), admin).await.expect(200);
    r.body["audit_events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// Tokens carry whole seconds: wait past the second a token was issued in, so a change
/// made now is later than the token.
async fn next_second() {
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[actix_web::test]
async fn a_deactivated_user_is_locked_out_at_once_and_back_after_activation() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let user = app.ministry("KZ");
    app.get("/api/v1/auth/me", &user).await.expect(200);

    let r = app.post(&format!("/api/v1/users/{}/deactivation", user.id), &admin, json!({"reason": "left the ministry"})).await.expect(200);
    assert_eq!(r.body["user"]["active"], false);
    app.get("/api/v1/auth/me", &user).await.expect(401);
    login(&app, &user.username, TEST_PASSWORD).await.expect(401);

    let r = app.post(&format!("/api/v1/users/{}/activation", user.id), &admin, json!({})).await.expect(200);
    assert_eq!(r.body["user"]["active"], true);
    let token = login(&app, &user.username, TEST_PASSWORD).await.expect(200).body["access_token"].as_str().unwrap().to_owned();
    app.request(Method::GET, "/api/v1/auth/me", Some(&token), None).await.expect(200);

    let actions = audit_actions(&app, &admin, user.id).await;
    assert!(actions.contains(&"deactivate_user".to_owned()) && actions.contains(&"activate_user".to_owned()), "{actions:?}");
    let r = app.get(&format!("/api/v1/audit-events?resource_type=user&resource_id={}&action=deactivate_user", user.id), &admin).await.expect(200);
    assert_eq!(r.body["audit_events"][0]["details"]["reason"], "left the ministry");
    assert_eq!(r.body["audit_events"][0]["user_id"], admin.id);
}

#[actix_web::test]
async fn deactivation_is_idempotent() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let user = app.ministry("KZ");
    let path = format!("/api/v1/users/{}/deactivation", user.id);
    let first = app.request_with(Method::POST, &path, Some(&admin.token), None, &[("Idempotency-Key", "deact-1")]).await.expect(200);
    let replay = app.request_with(Method::POST, &path, Some(&admin.token), None, &[("Idempotency-Key", "deact-1")]).await.expect(200);
    assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.body, replay.body);
    // Without a key, deactivating again changes nothing and writes nothing.
    app.request(Method::POST, &path, Some(&admin.token), None).await.expect(200);
    let actions = audit_actions(&app, &admin, user.id).await;
    assert_eq!(actions.iter().filter(|a| *a == "deactivate_user").count(), 1, "{actions:?}");
}

#[actix_web::test]
async fn only_an_admin_manages_users_and_not_its_own_deactivation() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let regulator = app.regulator("KZ");
    let user = app.ministry("KZ");
    for action in ["deactivation", "activation"] {
        app.post(&format!("/api/v1/users/{}/{action}", user.id), &regulator, json!({})).await.expect(403);
    }
    app.post(&format!("/api/v1/users/{}/password-reset", user.id), &regulator, json!({"new_password": "temporary-password-1"})).await.expect(403);
    let r = app.post(&format!("/api/v1/users/{}/deactivation", admin.id), &admin, json!({})).await.expect(409);
    assert_eq!(r.code(), "cannot_deactivate_self");
    app.post("/api/v1/users/987654321/deactivation", &admin, json!({})).await.expect(404);
    app.post("/api/v1/users/987654321/password-reset", &admin, json!({"new_password": "temporary-password-1"})).await.expect(404);
}

#[actix_web::test]
async fn a_user_changes_its_own_password_with_the_current_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let user = app.ministry("KZ");
    let wrong = app
        .post("/api/v1/auth/password", &user, json!({"current_password": "not-it-at-all", "new_password": "a-new-long-password"}))
        .await
        .expect(403);
    assert_eq!(wrong.code(), "wrong_password");
    let short = app.post("/api/v1/auth/password", &user, json!({"current_password": TEST_PASSWORD, "new_password": "short"})).await.expect(422);
    assert_eq!(short.pointers(), vec!["/new_password"]);
    let same = app.post("/api/v1/auth/password", &user, json!({"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD})).await.expect(422);
    assert_eq!(same.pointers(), vec!["/new_password"]);
    app.post("/api/v1/auth/password", &user, json!({"new_password": "a-new-long-password"})).await.expect(422);

    next_second().await;
    let r =
        app.post("/api/v1/auth/password", &user, json!({"current_password": TEST_PASSWORD, "new_password": "a-new-long-password"})).await.expect(200);
    assert_eq!(r.body["user"]["id"], user.id);
    assert!(!r.text.contains("a-new-long-password"));
    // Tokens issued before the change are over; the old password is too.
    app.get("/api/v1/auth/me", &user).await.expect(401);
    login(&app, &user.username, TEST_PASSWORD).await.expect(401);
    let fresh = login(&app, &user.username, "a-new-long-password").await.expect(200);
    assert_eq!(fresh.body["password_change_required"], false);
    assert!(audit_actions(&app, &admin, user.id).await.contains(&"change_password".to_owned()));
}

#[actix_web::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    for _ in 0..5 {
        app.post("/api/v1/auth/password", &user, json!({"current_password": "guess-guess", "new_password": "a-new-long-password"})).await.expect(403);
    }
    let r =
        app.post("/api/v1/auth/password", &user, json!({"current_password": TEST_PASSWORD, "new_password": "a-new-long-password"})).await.expect(429);
    assert_eq!(r.code(), "too_many_attempts");
    assert!(r.header("retry-after").is_some());
}

#[actix_web::test]
async fn a_reset_password_must_be_changed_before_anything_else() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let user = app.ministry("KZ");
    next_second().await;
    let r = app.post(&format!("/api/v1/users/{}/password-reset", user.id), &admin, json!({"new_password": "temporary-password-1"})).await.expect(200);
    assert!(!r.text.contains("temporary-password-1"));
    // The tokens of before the reset are over.
    app.get("/api/v1/auth/me", &user).await.expect(401);

    let r = login(&app, &user.username, "temporary-password-1").await.expect(200);
    assert_eq!(r.body["password_change_required"], true);
    let limited = TestUser { token: r.body["access_token"].as_str().unwrap().to_owned(), ..user.clone() };
    app.get("/api/v1/auth/me", &limited).await.expect(200);
    let refused = app.get("/api/v1/facilities", &limited).await.expect(403);
    assert_eq!(refused.code(), "password_change_required");
    app.get("/api/v1/analytics/availability?country=KZ&year=2026", &limited).await.expect(403);

    app.post("/api/v1/auth/password", &limited, json!({"current_password": "temporary-password-1", "new_password": "my-own-password-2"}))
        .await
        .expect(200);
    let r = login(&app, &user.username, "my-own-password-2").await.expect(200);
    assert_eq!(r.body["password_change_required"], false);
    let token = r.body["access_token"].as_str().unwrap();
    app.request(Method::GET, "/api/v1/facilities", Some(token), None).await.expect(200);

    let actions: Vec<Value> = audit_actions(&app, &admin, user.id).await.into_iter().map(Value::from).collect();
    assert!(actions.contains(&json!("reset_password")) && actions.contains(&json!("change_password")), "{actions:?}");
}
