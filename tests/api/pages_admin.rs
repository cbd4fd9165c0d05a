//! The administrator's page: a user created, deactivated (its session ends at once) and
//! reset through the account commands; the reference values listed with their sources.

use serde_json::json;

use crate::helpers::{TestApp, WebSession, csrf_of, field_of};

#[actix_web::test]
async fn the_admin_creates_deactivates_and_resets_users_through_the_commands() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let s = WebSession::signed_in(&app, &admin).await;
    let page = s.get("/dashboard/users").await;
    assert_eq!(page.status, 200);
    // Reference values in force with their sources: morphine's S-DDD of 100 mg.
    assert!(page.text.contains("<td>morphine</td>"), "{}", page.text);
    let token = csrf_of(&page.text);
    let idem = field_of(&page.text, "idem");

    let bad = s
        .post_form(
            "/dashboard/users",
            &[("csrf", &token), ("username", "Bad Name"), ("password", "long-enough-password"), ("role", "ministry"), ("country_code", "kz")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("/username"), "{}", bad.text);
    let r = s
        .post_form(
            "/dashboard/users",
            &[
                ("csrf", &token),
                ("idem", &idem),
                ("username", "aigerim.m"),
                ("password", "long-enough-password"),
                ("role", "ministry"),
                ("country_code", "kz"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let login = app
        .request(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": "aigerim.m", "password": "long-enough-password"})))
        .await
        .expect(200);
    let token_of_user = login.body["access_token"].as_str().unwrap().to_owned();
    let me = app.request(awc::http::Method::GET, "/api/v1/auth/me", Some(&token_of_user), None).await.expect(200);
    assert_eq!((me.body["user"]["role"].clone(), me.body["user"]["country_code"].clone()), (json!("ministry"), json!("KZ")));
    let id = me.body["user"]["id"].as_i64().unwrap();

    // Her session ends the moment she is deactivated.
    let hers = WebSession::new(&app);
    let t = hers.csrf("/dashboard/login").await;
    hers.post_form("/dashboard/login", &[("csrf", &t), ("username", "aigerim.m"), ("password", "long-enough-password")]).await;
    assert_eq!(hers.get("/dashboard/overview").await.status, 200);
    // A reason the API refuses (over 1 000 characters) is refused by the page too; she stays.
    let long = "x".repeat(1001);
    let r = s.post_form(&format!("/dashboard/users/{id}/active"), &[("csrf", &token), ("active", "false"), ("reason", &long)]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("/reason"));
    app.post(&format!("/api/v1/users/{id}/deactivation"), &admin, json!({"reason": long})).await.expect(422);
    assert_eq!(hers.get("/dashboard/overview").await.status, 200);
    let r = s.post_form(&format!("/dashboard/users/{id}/active"), &[("csrf", &token), ("active", "false"), ("reason", "left the ministry")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(hers.get("/dashboard/overview").await.status, 303);
    let audit = app.get("/api/v1/audit-events?action=deactivate_user", &admin).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 1);
    // The admin cannot deactivate itself: the command's problem code.
    let me_too = s.post_form(&format!("/dashboard/users/{}/active", admin.id), &[("csrf", &token), ("active", "false")]).await;
    assert_eq!(me_too.status, 422);
    assert!(me_too.text.contains("cannot_deactivate_self"));
    // Reactivated and reset: her next sign-in must change the password.
    s.post_form(&format!("/dashboard/users/{id}/active"), &[("csrf", &token), ("active", "true")]).await;
    let r = s.post_form(&format!("/dashboard/users/{id}/password-reset"), &[("csrf", &token), ("new_password", "temporary-pass-77")]).await;
    assert_eq!(r.status, 303);
    let again = WebSession::new(&app);
    let t = again.csrf("/dashboard/login").await;
    let r = again.post_form("/dashboard/login", &[("csrf", &t), ("username", "aigerim.m"), ("password", "temporary-pass-77")]).await;
    assert_eq!(r.header("location").as_deref(), Some("/dashboard/account"));
}
