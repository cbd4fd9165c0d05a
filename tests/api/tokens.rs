//! Access tokens through HTTP: only an HS256 token signed with the instance's key, with the
//! right issuer and audience and not expired, naming an active user whose row still matches,
//! is accepted; everything else is 401 `invalid_token`.

use awc::http::Method;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Sha256;
use tarozi::db::enums::Role;

use crate::auth::base64_shim::{decode, encode};
use crate::helpers::{TestApp, TestUser, test_settings};

fn secret() -> Vec<u8> {
    test_settings().jwt_secret
}

/// Valid claims for `user` (a KZ ministry user), to be spoiled one at a time.
fn claims(user: &TestUser) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": user.id.to_string(), "iss": "tarozi", "aud": "tarozi-api", "iat": now, "exp": now + 300, "role": "ministry", "country": "KZ", "facility": null})
}

fn sign(alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(&secret())).unwrap()
}

/// A token with any header, signed with HMAC-SHA-256 and the instance's key.
fn hs256_with_header(header: &Value, claims: &Value) -> String {
    let signing_input = format!("{}.{}", encode(&serde_json::to_vec(header).unwrap()), encode(&serde_json::to_vec(claims).unwrap()));
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret()).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", encode(&mac.finalize().into_bytes()))
}

async fn me(app: &TestApp, token: &str) -> u16 {
    let r = app.request(Method::GET, "/api/v1/auth/me", Some(token), None).await;
    if r.status == 401 {
        assert_eq!(r.code(), "invalid_token", "{}", r.text);
    }
    r.status
}

#[actix_web::test]
async fn a_well_formed_hs256_token_is_accepted() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    assert_eq!(me(&app, &sign(Algorithm::HS256, &claims(&user))).await, 200);
}

#[actix_web::test]
async fn unsigned_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let body = encode(&serde_json::to_vec(&claims(&user)).unwrap());
    for alg in ["none", "None", "NONE"] {
        let header = encode(&serde_json::to_vec(&json!({"alg": alg, "typ": "JWT"})).unwrap());
        assert_eq!(me(&app, &format!("{header}.{body}.")).await, 401, "alg {alg}");
    }
}

#[actix_web::test]
async fn tokens_of_another_algorithm_are_refused_even_with_the_right_key() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let c = claims(&user);
    assert_eq!(me(&app, &sign(Algorithm::HS512, &c)).await, 401);
    assert_eq!(me(&app, &sign(Algorithm::HS384, &c)).await, 401);
    // Algorithm confusion: an RS256 or ES256 header over an HMAC signature with the key.
    assert_eq!(me(&app, &hs256_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &c)).await, 401);
    assert_eq!(me(&app, &hs256_with_header(&json!({"alg": "ES256", "typ": "JWT"}), &c)).await, 401);
    // The same construction with the right header is fine: the refusals above are the header's.
    assert_eq!(me(&app, &hs256_with_header(&json!({"alg": "HS256", "typ": "JWT"}), &c)).await, 200);
}

#[actix_web::test]
async fn a_tampered_claim_breaks_the_signature() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let token = sign(Algorithm::HS256, &claims(&user));
    let parts: Vec<&str> = token.split('.').collect();
    for (field, value) in
        [("country", json!("UZ")), ("role", json!("regulator")), ("sub", json!((user.id + 1).to_string())), ("exp", json!(4102444800i64))]
    {
        let mut c: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        c[field] = value;
        let forged = format!("{}.{}.{}", parts[0], encode(&serde_json::to_vec(&c).unwrap()), parts[2]);
        assert_eq!(me(&app, &forged).await, 401, "tampered {field}");
    }
    // A signature of another key.
    let other = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(&user), &EncodingKey::from_secret(b"another-key-another-key-another-k"))
        .unwrap();
    assert_eq!(me(&app, &other).await, 401);
}

#[actix_web::test]
async fn wrong_audience_issuer_or_expiry_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    let now = chrono::Utc::now().timestamp();
    let spoil = |field: &str, value: Value| {
        let mut c = claims(&user);
        c[field] = value;
        sign(Algorithm::HS256, &c)
    };
    assert_eq!(me(&app, &spoil("aud", json!("another-api"))).await, 401);
    assert_eq!(me(&app, &spoil("iss", json!("someone-else"))).await, 401);
    assert_eq!(me(&app, &spoil("exp", json!(now - 1))).await, 401);
    let mut no_exp = claims(&user);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(me(&app, &sign(Algorithm::HS256, &no_exp)).await, 401);
    let mut no_aud = claims(&user);
    no_aud.as_object_mut().unwrap().remove("aud");
    assert_eq!(me(&app, &sign(Algorithm::HS256, &no_aud)).await, 401);
}

#[actix_web::test]
async fn a_token_whose_claims_no_longer_match_the_user_row_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    // Correctly signed, but naming a scope the user does not have.
    let elsewhere = app.token_for(user.id, Role::Ministry, Some("UZ"), None, 300);
    assert_eq!(me(&app, &elsewhere).await, 401);
    let promoted = app.token_for(user.id, Role::Admin, None, None, 300);
    assert_eq!(me(&app, &promoted).await, 401);
    let nobody = app.token_for(987_654_321, Role::Ministry, Some("KZ"), None, 300);
    assert_eq!(me(&app, &nobody).await, 401);
}

#[actix_web::test]
async fn a_deactivated_users_token_stops_working_at_once() {
    use tarozi::db::schema::users;
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    assert_eq!(me(&app, &user.token).await, 200);
    diesel::update(users::table.find(user.id)).set(users::active.eq(false)).execute(&mut app.conn()).unwrap();
    assert_eq!(me(&app, &user.token).await, 401);
    app.request(Method::GET, "/api/v1/facilities", Some(&user.token), None).await.expect(401);
}
