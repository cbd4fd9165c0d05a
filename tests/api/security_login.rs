//! Login throttling through HTTP: back-off per (username, address) pair, looser ceilings per
//! username and per address that the pair which last logged in successfully skips, and the
//! client address taken from `X-Forwarded-For` only behind a trusted proxy.

use awc::http::Method;
use serde_json::json;
use tarozi::auth::client_addr::TrustedProxies;

use crate::helpers::{TEST_PASSWORD, TestApp, TestResponse, test_settings};

/// A test app whose direct peer (the test client on 127.0.0.1) counts as a trusted proxy.
async fn behind_proxy() -> TestApp {
    let mut settings = test_settings();
    settings.trusted_proxies = TrustedProxies::parse("127.0.0.1, ::1").unwrap();
    TestApp::spawn_with(settings).await
}

async fn login_from(app: &TestApp, username: &str, password: &str, address: &str) -> TestResponse {
    app.request_with(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": username, "password": password})),
        &[("X-Forwarded-For", address)],
    )
    .await
}

fn retry_after(r: &TestResponse) -> u64 {
    r.header("retry-after").expect("Retry-After").parse().unwrap()
}

#[actix_web::test]
async fn an_attacker_is_slowed_while_the_owner_still_logs_in_from_the_usual_address() {
    let app = behind_proxy().await;
    let owner = app.ministry("KZ");
    login_from(&app, &owner.username, TEST_PASSWORD, "192.0.2.10").await.expect(200);
    for _ in 0..5 {
        login_from(&app, &owner.username, "guess", "198.51.100.1").await.expect(401);
    }
    let r = login_from(&app, &owner.username, TEST_PASSWORD, "198.51.100.1").await.expect(429);
    assert_eq!(r.code(), "too_many_attempts");
    assert_eq!(r.header("content-type").unwrap(), "application/problem+json");
    assert!(retry_after(&r) >= 1);
    // Neither the owner's usual address nor a fresh one is held up by the attacker's pair.
    login_from(&app, &owner.username, TEST_PASSWORD, "192.0.2.10").await.expect(200);
    login_from(&app, &owner.username, TEST_PASSWORD, "203.0.113.7").await.expect(200);
}

#[actix_web::test]
async fn back_off_doubles_with_each_failure_after_the_free_ones() {
    let app = behind_proxy().await;
    let user = app.ministry("KZ");
    for _ in 0..5 {
        login_from(&app, &user.username, "guess", "198.51.100.2").await.expect(401);
    }
    let first = login_from(&app, &user.username, "guess", "198.51.100.2").await.expect(429);
    assert_eq!(retry_after(&first), 1);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    // After the wait, one more try is let through (and fails), and the next wait is longer.
    login_from(&app, &user.username, "guess", "198.51.100.2").await.expect(401);
    let second = login_from(&app, &user.username, "guess", "198.51.100.2").await.expect(429);
    assert_eq!(retry_after(&second), 2);
}

#[actix_web::test]
async fn the_username_ceiling_slows_unknown_addresses_but_never_the_known_good_pair() {
    let app = behind_proxy().await;
    let owner = app.ministry("KZ");
    login_from(&app, &owner.username, TEST_PASSWORD, "192.0.2.10").await.expect(200);
    // A spread-out attack: one guess from each of 20 addresses, each under its pair limit.
    for i in 0..20 {
        login_from(&app, &owner.username, "guess", &format!("198.51.100.{}", 100 + i)).await.expect(401);
    }
    let r = login_from(&app, &owner.username, TEST_PASSWORD, "203.0.113.8").await.expect(429);
    assert_eq!(r.code(), "too_many_attempts");
    login_from(&app, &owner.username, TEST_PASSWORD, "192.0.2.10").await.expect(200);
}

#[actix_web::test]
async fn a_busy_address_slows_new_logins_but_not_users_known_there() {
    let app = behind_proxy().await;
    let alice = app.ministry("KZ");
    let bob = app.ministry("KZ");
    let nat = "192.0.2.50";
    login_from(&app, &alice.username, TEST_PASSWORD, nat).await.expect(200);
    // Password spraying from the shared address: one guess each for many usernames.
    for i in 0..50 {
        login_from(&app, &format!("sprayed-{i}"), "guess", nat).await.expect(401);
    }
    login_from(&app, &bob.username, TEST_PASSWORD, nat).await.expect(429);
    login_from(&app, &alice.username, TEST_PASSWORD, nat).await.expect(200);
    // Bob is not held up anywhere else.
    login_from(&app, &bob.username, TEST_PASSWORD, "203.0.113.9").await.expect(200);
}

#[actix_web::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = TestApp::spawn().await;
    let user = app.ministry("KZ");
    // Each request claims another address; without trusted proxies all count as the peer's.
    for i in 0..5 {
        login_from(&app, &user.username, "guess", &format!("198.51.100.{i}")).await.expect(401);
    }
    login_from(&app, &user.username, TEST_PASSWORD, "198.51.100.99").await.expect(429);
}

#[actix_web::test]
async fn a_forged_forwarded_for_entry_left_of_the_proxy_entry_is_not_believed() {
    let app = behind_proxy().await;
    let user = app.ministry("KZ");
    for i in 0..5 {
        // The client prepends a fresh fake address each time; the proxy appends the real one.
        login_from(&app, &user.username, "guess", &format!("10.9.9.{i}, 198.51.100.3")).await.expect(401);
    }
    login_from(&app, &user.username, TEST_PASSWORD, "10.9.9.200, 198.51.100.3").await.expect(429);
}
