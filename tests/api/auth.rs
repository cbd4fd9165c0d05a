use awc::http::Method;
use serde_json::json;
use tarozi::db::enums::Role;

use crate::helpers::{TEST_PASSWORD, TestApp};

#[actix_web::test]
async fn login_with_the_right_password_gives_a_token_that_identifies_the_user() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("KZ");
    let r = app
        .request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": ministry.username, "password": TEST_PASSWORD})))
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    let token = r.body["access_token"].as_str().unwrap();
    let me = app.request(Method::GET, "/api/v1/auth/me", Some(token), None).await.expect(200);
    assert_eq!(me.body["user"]["id"], ministry.id);
    assert_eq!(me.body["user"]["role"], "ministry");
    assert_eq!(me.body["user"]["country_code"], "KZ");
    assert!(me.body["user"]["facility_id"].is_null());
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let wrong = app
        .request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": user.username, "password": "not-the-password"})))
        .await
        .expect(401);
    let unknown = app
        .request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": "nobody-here", "password": "not-the-password"})))
        .await
        .expect(401);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.header("content-type").unwrap(), "application/problem+json");
}

#[actix_web::test]
async fn requests_without_a_token_are_refused() {
    let app = TestApp::spawn().await;
    let r = app.request(Method::GET, "/api/v1/auth/me", None, None).await.expect(401);
    assert_eq!(r.code(), "unauthenticated");
    let r = app.request(Method::GET, "/api/v1/auth/me", Some("not-a-jwt"), None).await.expect(401);
    assert_eq!(r.code(), "invalid_token");
}

#[actix_web::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let expired = app.token_for(user.id, Role::Ministry, Some("KZ"), None, -5);
    let r = app.request(Method::GET, "/api/v1/auth/me", Some(&expired), None).await.expect(401);
    assert_eq!(r.code(), "invalid_token");
}

#[actix_web::test]
async fn tampered_tokens_are_refused() {
    use base64_shim::*;
    let app = TestApp::spawn().await;
    let pharmacy_user = app.ministry("KZ");
    let parts: Vec<&str> = pharmacy_user.token.split('.').collect();
    // Promote the user to admin in the payload, keeping the original signature.
    let mut claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    claims["role"] = json!("admin");
    claims["country"] = json!(null);
    let forged = format!("{}.{}.{}", parts[0], encode(&serde_json::to_vec(&claims).unwrap()), parts[2]);
    let r = app.request(Method::GET, "/api/v1/users", Some(&forged), None).await.expect(401);
    assert_eq!(r.code(), "invalid_token");
    // An unsigned token ("alg": "none") is refused as well.
    let none_header = encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    app.request(Method::GET, "/api/v1/auth/me", Some(&unsigned), None).await.expect(401);
}

#[actix_web::test]
async fn a_token_stops_working_when_its_user_is_deactivated_or_changes_role() {
    use diesel::prelude::*;
    use tarozi::db::schema::users;
    let app = TestApp::spawn().await;
    let a = app.ministry("KZ");
    let b = app.ministry("KZ");
    app.get("/api/v1/auth/me", &a).await.expect(200);
    diesel::update(users::table.find(a.id)).set(users::active.eq(false)).execute(&mut app.conn()).unwrap();
    app.get("/api/v1/auth/me", &a).await.expect(401);
    diesel::update(users::table.find(b.id)).set(users::role.eq("regulator")).execute(&mut app.conn()).unwrap();
    app.get("/api/v1/auth/me", &b).await.expect(401);
}

#[actix_web::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    for _ in 0..5 {
        app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": user.username, "password": "wrong-password"})))
            .await
            .expect(401);
    }
    let r =
        app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": user.username, "password": TEST_PASSWORD}))).await.expect(429);
    assert_eq!(r.code(), "too_many_attempts");
    assert!(r.header("retry-after").is_some());
}

/// URL-safe base64 without padding, enough to forge a JWT segment in a test.
pub mod base64_shim {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    pub fn decode(text: &str) -> Vec<u8> {
        let values: Vec<u32> = text.bytes().map(|c| ALPHABET.iter().position(|a| *a == c).unwrap() as u32).collect();
        let mut out = Vec::new();
        for chunk in values.chunks(4) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
            for i in 0..chunk.len().saturating_sub(1) {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        out
    }
}
