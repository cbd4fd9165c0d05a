//! API keys through HTTP: issued by an admin or the facility country's regulator, shown
//! once, used as `Authorization: Bearer tz_...` with exactly a facility user's scope,
//! refused once revoked or expired, audited with the key as actor.

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

struct Setup {
    app: TestApp,
    admin: TestUser,
    regulator: TestUser,
    pharmacy: Facility,
    other_pharmacy: Facility,
    wholesaler: Facility,
    morphine: i64,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let regulator = app.regulator("KZ");
    let almaty = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Dari-Darmek 7").await;
    let other_pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Other pharmacy").await;
    let wholesaler = app.facility(almaty, FacilityKind::Wholesaler, "Wholesaler").await;
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    Setup { app, admin, regulator, pharmacy, other_pharmacy, wholesaler, morphine }
}

/// Issues a key for `facility` as `by`; returns the answer's key view and its secret.
async fn issue(app: &TestApp, by: &TestUser, facility: &Facility, name: &str) -> (Value, String) {
    let r = app.post("/api/v1/api-keys", by, json!({"name": name, "facility_id": facility.id})).await.expect(201);
    (r.body["api_key"].clone(), r.body["secret"].as_str().unwrap().to_owned())
}

fn as_key(secret: &str) -> TestUser {
    TestUser { id: 0, username: String::new(), token: secret.to_owned() }
}

fn record(id: &str, product: i64) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": 2, "dispensed_at": days_ago(1),
        "patient_id": "870412300123", "patient_sex": "female", "patient_age": 67, "prescriber_id": "KZ-DOC-1001",
        "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": "cancer"
    })
}

#[actix_web::test]
async fn a_key_reports_for_its_facility_like_its_reporting_user() {
    let s = setup().await;
    let pharmacist = s.app.facility_user(&s.pharmacy);
    s.app.stock_up(&pharmacist, s.pharmacy.id, s.morphine, 50, days_ago(20)).await;

    let (view, secret) = issue(&s.app, &s.regulator, &s.pharmacy, "pharmacy POS").await;
    assert!(secret.starts_with("tz_") && secret.len() == 67, "{secret}");
    assert!(secret.starts_with(view["prefix"].as_str().unwrap()));
    assert_eq!(view["role"], "pharmacy");
    assert_eq!(view["facility_id"], s.pharmacy.id);
    assert_eq!(view["country_code"], "KZ");
    assert_eq!(view["created_by"], s.regulator.id);
    assert_eq!(view["usable"], true);
    assert!(view["last_used_at"].is_null());
    let key = as_key(&secret);

    let r = s
        .app
        .post(&format!("/api/v1/facilities/{}/dispensings", s.pharmacy.id), &key, json!({"records": [record("k1", s.morphine)]}))
        .await
        .expect(200);
    assert_eq!(r.body["accepted"], 1, "{}", r.text);
    assert_eq!(s.app.balance(&key, s.pharmacy.id, s.morphine).await, 48);
    let me = s.app.get("/api/v1/auth/me", &key).await.expect(200);
    assert_eq!(me.body["user"]["id"], view["user_id"]);

    // The audit log names the key.
    let r = s.app.get(&format!("/api/v1/audit-events?action=record_dispensings&resource_id={}", s.pharmacy.id), &s.regulator).await.expect(200);
    assert_eq!(r.body["audit_events"][0]["api_key_id"], view["id"]);
    assert_eq!(r.body["audit_events"][0]["user_id"], view["user_id"]);
    assert_eq!(r.body["audit_events"][0]["role"], "pharmacy");

    // The listing shows the use, never the secret.
    let list = s.app.get("/api/v1/api-keys", &s.regulator).await.expect(200);
    assert!(!list.text.contains(&secret[3..]), "the secret is shown only once");
    let listed = list.body["api_keys"].as_array().unwrap().iter().find(|k| k["id"] == view["id"]).unwrap().clone();
    assert!(listed["last_used_at"].is_string());
    assert_eq!(list.body["meta"]["total"], 1);
}

#[actix_web::test]
async fn a_key_stays_within_its_facility_and_role() {
    let s = setup().await;
    let (_, secret) = issue(&s.app, &s.admin, &s.pharmacy, "pos").await;
    let key = as_key(&secret);
    s.app.get(&format!("/api/v1/facilities/{}/stock", s.other_pharmacy.id), &key).await.expect(403);
    s.app
        .post(&format!("/api/v1/facilities/{}/dispensings", s.other_pharmacy.id), &key, json!({"records": [record("x1", s.morphine)]}))
        .await
        .expect(403);
    s.app.get(&format!("/api/v1/facilities/{}", s.wholesaler.id), &key).await.expect(403);
    s.app.get("/api/v1/users", &key).await.expect(403);
    s.app.get("/api/v1/api-keys", &key).await.expect(403);
    s.app.post("/api/v1/api-keys", &key, json!({"name": "more", "facility_id": s.pharmacy.id})).await.expect(403);
    let listed = s.app.get("/api/v1/facilities", &key).await.expect(200);
    assert_eq!(listed.body["meta"]["total"], 1);
    // No password to change, and none to log in with.
    s.app.post("/api/v1/auth/password", &key, json!({"current_password": "x", "new_password": "a-long-password-1"})).await.expect(403);

    // A wholesaler's key acts as a wholesaler.
    let (view, _) = issue(&s.app, &s.admin, &s.wholesaler, "erp").await;
    assert_eq!(view["role"], "wholesaler");
}

#[actix_web::test]
async fn a_revoked_or_expired_key_is_refused() {
    use tarozi::db::schema::api_keys;
    let s = setup().await;
    let (view, secret) = issue(&s.app, &s.regulator, &s.pharmacy, "pos").await;
    let key = as_key(&secret);
    s.app.get(&format!("/api/v1/facilities/{}/stock", s.pharmacy.id), &key).await.expect(200);
    let id = view["id"].as_i64().unwrap();
    let r = s.app.post(&format!("/api/v1/api-keys/{id}/revocation"), &s.regulator, json!({"reason": "device lost"})).await.expect(200);
    assert!(r.body["api_key"]["revoked_at"].is_string());
    assert_eq!(r.body["api_key"]["usable"], false);
    let refused = s.app.get(&format!("/api/v1/facilities/{}/stock", s.pharmacy.id), &key).await.expect(401);
    assert_eq!(refused.code(), "invalid_token");
    // Revoking again changes nothing and writes nothing.
    s.app.post(&format!("/api/v1/api-keys/{id}/revocation"), &s.regulator, json!({})).await.expect(200);
    let audit = s.app.get(&format!("/api/v1/audit-events?resource_type=api_key&resource_id={id}"), &s.regulator).await.expect(200);
    let actions: Vec<&str> = audit.body["audit_events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["revoke_api_key", "create_api_key"]);

    let (view, secret) = issue(&s.app, &s.regulator, &s.pharmacy, "expiring").await;
    let key = as_key(&secret);
    s.app.get(&format!("/api/v1/facilities/{}/stock", s.pharmacy.id), &key).await.expect(200);
    diesel::update(api_keys::table.find(view["id"].as_i64().unwrap()))
        .set(api_keys::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut s.app.conn())
        .unwrap();
    s.app.get(&format!("/api/v1/facilities/{}/stock", s.pharmacy.id), &key).await.expect(401);
    // An unknown key, and a key shape with garbage.
    s.app.get("/api/v1/auth/me", &as_key(&format!("tz_{}", "0".repeat(64)))).await.expect(401);
    s.app.get("/api/v1/auth/me", &as_key("tz_")).await.expect(401);
}

#[actix_web::test]
async fn only_an_admin_or_the_countrys_regulator_issues_and_revokes_keys() {
    let s = setup().await;
    let pharmacist = s.app.facility_user(&s.pharmacy);
    s.app.post("/api/v1/api-keys", &pharmacist, json!({"name": "mine", "facility_id": s.pharmacy.id})).await.expect(403);
    s.app.post("/api/v1/api-keys", &s.app.ministry("KZ"), json!({"name": "m", "facility_id": s.pharmacy.id})).await.expect(403);
    let kg = s.app.regulator("KG");
    s.app.post("/api/v1/api-keys", &kg, json!({"name": "kg", "facility_id": s.pharmacy.id})).await.expect(403);
    let (view, _) = issue(&s.app, &s.admin, &s.pharmacy, "pos").await;
    let id = view["id"].as_i64().unwrap();
    s.app.post(&format!("/api/v1/api-keys/{id}/revocation"), &kg, json!({})).await.expect(403);
    s.app.post(&format!("/api/v1/api-keys/{id}/revocation"), &pharmacist, json!({})).await.expect(403);
    s.app.post("/api/v1/api-keys/987654321/revocation", &s.admin, json!({})).await.expect(404);
    let kg_list = s.app.get("/api/v1/api-keys", &kg).await.expect(200);
    assert_eq!(kg_list.body["meta"]["total"], 0, "a regulator lists only its country's keys");
    s.app.get("/api/v1/api-keys", &pharmacist).await.expect(403);

    // Bad requests.
    let r = s.app.post("/api/v1/api-keys", &s.admin, json!({"name": "x", "facility_id": 987654321})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/facility_id"]);
    let r = s.app.post("/api/v1/api-keys", &s.admin, json!({"name": "x", "facility_id": s.pharmacy.id, "expires_at": days_ago(1)})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/expires_at"]);
    let r = s.app.post("/api/v1/api-keys", &s.admin, json!({"name": "", "facility_id": s.pharmacy.id})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/name"]);
}

#[actix_web::test]
async fn an_idempotent_replay_of_issuing_does_not_show_the_secret_again() {
    let s = setup().await;
    let body = json!({"name": "pos", "facility_id": s.pharmacy.id});
    let headers = [("Idempotency-Key", "issue-1")];
    let first = s.app.request_with(Method::POST, "/api/v1/api-keys", Some(&s.admin.token), Some(&body), &headers).await.expect(201);
    assert!(first.body["secret"].is_string());
    let replay = s.app.request_with(Method::POST, "/api/v1/api-keys", Some(&s.admin.token), Some(&body), &headers).await.expect(201);
    assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(replay.body["api_key"]["id"], first.body["api_key"]["id"]);
    assert!(replay.body["secret"].is_null());
    let list = s.app.get("/api/v1/api-keys", &s.admin).await.expect(200);
    assert_eq!(list.body["meta"]["total"], 1);
}

#[actix_web::test]
async fn key_principals_are_not_people() {
    let s = setup().await;
    let (view, _) = issue(&s.app, &s.admin, &s.pharmacy, "pos").await;
    let principal = view["user_id"].as_i64().unwrap();
    let users = s.app.get("/api/v1/users?per_page=100", &s.admin).await.expect(200);
    assert!(users.body["users"].as_array().unwrap().iter().all(|u| u["id"] != principal));
    let r = s.app.post(&format!("/api/v1/users/{principal}/deactivation"), &s.admin, json!({})).await.expect(409);
    assert_eq!(r.code(), "api_key_principal");
    s.app.post(&format!("/api/v1/users/{principal}/password-reset"), &s.admin, json!({"new_password": "a-long-password-1"})).await.expect(409);
}
