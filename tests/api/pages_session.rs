//! Dashboard sessions: the cookie's attributes, security headers, CSRF refusals (forms and
//! the multipart upload), the language remembered per user, the user's own password.

use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{TEST_PASSWORD, TestApp, WebSession, csrf_of, field_of, test_settings};

#[actix_web::test]
async fn the_session_cookie_is_httponly_and_strict_and_pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let session = WebSession::new(&app);
    let page = session.get("/dashboard/login").await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(!page.text.contains("<script"), "no script on any page");
    assert!(!page.text.contains(" style="), "no inline style on any page");

    let wrong = session
        .post_form("/dashboard/login", &[("csrf", &csrf_of(&page.text)), ("username", &regulator.username), ("password", "not-the-password")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains("Wrong username or password."));
    assert_eq!(session.get("/dashboard/flags").await.status, 303, "a failed login signs nobody in");

    let ok = session.login(&regulator.username).await;
    let cookie = WebSession::set_cookie(&ok);
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP by default: {cookie}");
    assert_eq!(session.get("/dashboard/flags").await.status, 200);

    // With TAROZI_COOKIE_SECURE the cookie is for HTTPS only.
    let mut settings = test_settings();
    settings.ops.cookie_secure = true;
    let secure_app = TestApp::spawn_with(settings).await;
    let user = secure_app.regulator("KZ");
    let s = WebSession::new(&secure_app);
    let token = s.csrf("/dashboard/login").await;
    let r = s.post_form("/dashboard/login", &[("csrf", &token), ("username", &user.username), ("password", TEST_PASSWORD)]).await;
    assert!(WebSession::set_cookie(&r).contains("Secure"), "{}", WebSession::set_cookie(&r));
}

#[actix_web::test]
async fn forms_without_the_sessions_token_or_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let session = WebSession::signed_in(&app, &regulator).await;
    let token = session.csrf("/dashboard/rules").await;
    assert_eq!(token.len(), 64);
    let forged = "0".repeat(64);
    let r = session.post_form("/dashboard/language", &[("csrf", &forged), ("language", "ru"), ("back", "/dashboard/rules")]).await;
    assert_eq!(r.status, 403, "a wrong token");
    assert!(r.text.contains("This form has expired or came from another site"));
    let good = [("csrf", token.as_str()), ("language", "ru"), ("back", "/dashboard/rules")];
    let r = session.post_form_from("/dashboard/language", &good, Some("http://evil.example")).await;
    assert_eq!(r.status, 403, "the right token from another site");
    let r = session.post_form_from("/dashboard/logout", &[("csrf", "")], None).await;
    assert_eq!(r.status, 403, "no token");
    let still = session.get("/dashboard/rules").await;
    assert_eq!(still.status, 200, "still signed in");
    assert!(still.text.contains("<html lang=\"en\">"), "and still English");

    let r = session.post_form("/dashboard/language", &good).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/dashboard/rules"));
    assert!(session.get("/dashboard/rules").await.text.contains("<html lang=\"ru\">"));

    // The multipart upload checks its token too, and writes nothing without it.
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Pharmacy 1").await;
    let user = app.facility_user(&pharmacy);
    let p = WebSession::signed_in(&app, &user).await;
    let page = p.get("/dashboard/facility").await;
    let idem = field_of(&page.text, "idem");
    let csv = "client_record_id,product_id,quantity_units,dispensed_at,patient_id,patient_sex,patient_age,prescriber_id,prescription_number,days_supply,indication\nR1,1,1,2026-01-01T00:00:00Z,X,female,50,D,P,1,cancer\n";
    let r = p.post_multipart("/dashboard/facility/dispensings/upload", &[("csrf", &"f".repeat(64)), ("idem", &idem)], csv.as_bytes()).await;
    assert_eq!(r.status, 403);
    let admin = app.admin();
    let audit = app.get("/api/v1/audit-events?action=record_dispensings", &admin).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 0, "{}", audit.text);
}

#[actix_web::test]
async fn the_language_is_remembered_for_the_user_and_numbers_follow_it() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("KZ");
    let session = WebSession::signed_in(&app, &ministry).await;
    let page = session.get("/dashboard/overview").await;
    assert!(page.text.contains("The country at a glance"));
    let token = csrf_of(&page.text);
    let idem = field_of(&page.text, "idem");
    let r = session.post_form("/dashboard/language", &[("csrf", &token), ("idem", &idem), ("language", "ru"), ("back", "/dashboard/overview")]).await;
    assert_eq!(r.status, 303);
    let ru = session.get("/dashboard/overview").await;
    assert!(ru.text.contains("<html lang=\"ru\">") && ru.text.contains("Страна с первого взгляда") && ru.text.contains("Выйти"), "{}", ru.text);
    // A language without a catalogue is refused, naming the field.
    let bad = session.post_form("/dashboard/language", &[("csrf", &token), ("language", "xx")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("/language"));
    // The choice is the user's: a new session (another browser) is in Russian at once …
    let again = WebSession::signed_in(&app, &ministry).await;
    assert!(again.get("/dashboard/overview").await.text.contains("<html lang=\"ru\">"));
    // … and audited once, through the write frame.
    let admin = app.admin();
    let audit = app.get("/api/v1/audit-events?action=set_language", &admin).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 1, "{}", audit.text);
    assert_eq!(audit.body["audit_events"][0]["details"], json!({"language": "ru"}));
    // Another user keeps English.
    let regulator = app.regulator("KZ");
    let other = WebSession::signed_in(&app, &regulator).await;
    assert!(other.get("/dashboard/rules").await.text.contains("<html lang=\"en\">"));
}

#[actix_web::test]
async fn a_user_changes_its_own_password_and_a_reset_forces_the_change() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let session = WebSession::signed_in(&app, &regulator).await;
    let page = session.get("/dashboard/account").await;
    let token = csrf_of(&page.text);
    let new_password = "a-new-long-password-2026";
    let mismatch = session
        .post_form(
            "/dashboard/account/password",
            &[("csrf", &token), ("current_password", TEST_PASSWORD), ("new_password", new_password), ("repeat_password", "other-password-xx")],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.text.contains("/repeat_password"));
    let wrong = session
        .post_form(
            "/dashboard/account/password",
            &[("csrf", &token), ("current_password", "wrong-password-1"), ("new_password", new_password), ("repeat_password", new_password)],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.text.contains("The current password is wrong."));
    let ok = session
        .post_form(
            "/dashboard/account/password",
            &[("csrf", &token), ("current_password", TEST_PASSWORD), ("new_password", new_password), ("repeat_password", new_password)],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert!(session.get("/dashboard/account").await.text.contains("Your password was changed."), "the session goes on, renewed");
    // The API sees the same change: the old password no longer logs in, the new one does.
    app.request(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": regulator.username, "password": TEST_PASSWORD})))
        .await
        .expect(401);
    app.request(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": regulator.username, "password": new_password})))
        .await
        .expect(200);

    // A reset by the admin: the next sign-in leads to the account page, and nothing else opens.
    let ministry = app.ministry("KZ");
    let admin = app.admin();
    app.post(&format!("/api/v1/users/{}/password-reset", ministry.id), &admin, json!({"new_password": "temporary-password-1"})).await.expect(200);
    let s = WebSession::new(&app);
    let token = s.csrf("/dashboard/login").await;
    let r = s.post_form("/dashboard/login", &[("csrf", &token), ("username", &ministry.username), ("password", "temporary-password-1")]).await;
    assert_eq!(r.header("location").as_deref(), Some("/dashboard/account"));
    let overview = s.get("/dashboard/overview").await;
    assert_eq!(overview.header("location").as_deref(), Some("/dashboard/account"));
    assert!(s.get("/dashboard/account").await.text.contains("choose a new one to continue"));
}
