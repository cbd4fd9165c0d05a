use chrono::Datelike;
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

struct Setup {
    app: TestApp,
    regulator: TestUser,
    importer: Facility,
    importer_user: TestUser,
    product: i64,
    morphine: i64,
    year: i32,
}

/// An importer in Almaty, morphine 10 mg tablets, and a 1 000 g estimate for this year.
async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let almaty = app.region("KZ", "Almaty").await;
    let importer = app.facility(almaty, FacilityKind::Importer, "Importer").await;
    let importer_user = app.facility_user(&importer);
    let product = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let morphine = app.substance_id("morphine").await;
    let year = chrono::Utc::now().year();
    app.post(
        "/api/v1/estimates",
        &regulator,
        json!({"country_code": "KZ", "substance_id": morphine, "year": year, "quantity_g": 1000, "kind": "annual"}),
    )
    .await
    .expect(201);
    Setup { app, regulator, importer, importer_user, product, morphine, year }
}

fn authorization(s: &Setup, number: &str, units: i64) -> Value {
    json!({
        "number": number, "importer_facility_id": s.importer.id, "exporting_country": "IN", "product_id": s.product,
        "quantity_units": units, "valid_from": format!("{}-01-01", s.year), "valid_until": format!("{}-12-31", s.year)
    })
}

#[actix_web::test]
async fn authorizations_stop_at_the_estimate_until_a_supplementary_lifts_it() {
    let s = setup().await;
    let app = &s.app;
    // 50 000 tablets × 10 mg = 500 g.
    let r = app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-1", 50_000)).await.expect(201);
    assert_eq!(r.body["import_authorization"]["quantity_g"], json!(500));
    assert_eq!(r.body["import_authorization"]["year"], s.year);
    // 60 000 more (600 g) passes the 1 000 g estimate: 500 g of headroom left.
    let refused = app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-2", 60_000)).await.expect(422);
    assert_eq!(refused.code(), "estimate_exceeded");
    assert_eq!(refused.body["headroom_g"], json!(500));
    assert_eq!(refused.body["headroom_units"], 50_000);
    // Exactly the headroom is fine.
    app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-3", 40_000)).await.expect(201);
    app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-4", 10_001)).await.expect(422);
    // A supplementary estimate lifts the ceiling.
    app.post(
        "/api/v1/estimates",
        &s.regulator,
        json!({"country_code": "KZ", "substance_id": s.morphine, "year": s.year, "quantity_g": "0.01", "kind": "supplementary"}),
    )
    .await
    .expect(201);
    app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-4", 1)).await.expect(201);
    let list = app.get("/api/v1/import-authorizations", &s.regulator).await.expect(200);
    assert_eq!(list.body["meta"]["total"], 3);
}

#[actix_web::test]
async fn without_an_estimate_nothing_can_be_authorized() {
    let s = setup().await;
    let fentanyl = s.app.product("fentanyl", "Fentanyl 0.1 mg/2 ml", "0.1", "injection", "ampoule").await;
    let mut body = authorization(&s, "IA-F", 1);
    body["product_id"] = json!(fentanyl);
    let r = s.app.post("/api/v1/import-authorizations", &s.regulator, body).await.expect(422);
    assert_eq!(r.code(), "estimate_exceeded");
    assert_eq!(r.body["headroom_g"], json!(0));
}

#[actix_web::test]
async fn only_the_regulator_issues_authorizations_and_fields_are_checked() {
    let s = setup().await;
    let app = &s.app;
    app.post("/api/v1/import-authorizations", &s.importer_user, authorization(&s, "IA-X", 1)).await.expect(403);
    app.post("/api/v1/import-authorizations", &app.ministry("KZ"), authorization(&s, "IA-X", 1)).await.expect(403);
    app.post("/api/v1/import-authorizations", &app.regulator("UZ"), authorization(&s, "IA-X", 1)).await.expect(403);
    let mut body = authorization(&s, "IA-X", 1);
    body["valid_until"] = json!(format!("{}-01-01", s.year - 1));
    assert_eq!(app.post("/api/v1/import-authorizations", &s.regulator, body).await.expect(422).pointers(), vec!["/valid_until"]);
    let mut body = authorization(&s, "IA-X", 1);
    body["exporting_country"] = json!("KZ");
    assert_eq!(app.post("/api/v1/import-authorizations", &s.regulator, body).await.expect(422).pointers(), vec!["/exporting_country"]);
    let pharmacy = app.facility(app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "P").await;
    let mut body = authorization(&s, "IA-X", 1);
    body["importer_facility_id"] = json!(pharmacy.id);
    assert_eq!(app.post("/api/v1/import-authorizations", &s.regulator, body).await.expect(422).pointers(), vec!["/importer_facility_id"]);
    app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-X", 1)).await.expect(201);
    let dup = app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-X", 1)).await.expect(409);
    assert_eq!(dup.pointers(), vec!["/number"]);
}

fn refused_codes(app: &TestApp, facility_id: i64) -> Vec<String> {
    use tarozi::db::schema::refused_attempts as ra;
    ra::table.filter(ra::facility_id.eq(facility_id)).order(ra::id).select(ra::code).load(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn receipts_credit_the_importer_and_never_pass_the_authorization() {
    let s = setup().await;
    let app = &s.app;
    let r = app.post("/api/v1/import-authorizations", &s.regulator, authorization(&s, "IA-1", 1000)).await.expect(201);
    let id = r.body["import_authorization"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/import-authorizations/{id}/receipts");
    let received_at = chrono::Utc::now();
    let r = app.post(&path, &s.importer_user, json!({"quantity_units": 600, "received_at": received_at})).await.expect(201);
    assert_eq!(r.body["stock_event"]["kind"], "import_receipt");
    assert_eq!(r.body["stock_event"]["balance_after_units"], 600);
    assert_eq!(r.body["import_authorization"]["remaining_units"], 400);
    assert_eq!(app.balance(&s.importer_user, s.importer.id, s.product).await, 600);

    let over = app.post(&path, &s.importer_user, json!({"quantity_units": 401, "received_at": received_at})).await.expect(422);
    assert_eq!(over.code(), "authorization_exceeded");
    assert_eq!(over.body["remaining_units"], 400);
    app.post(&path, &s.importer_user, json!({"quantity_units": 400, "received_at": received_at})).await.expect(201);
    let after = app.post(&path, &s.importer_user, json!({"quantity_units": 1, "received_at": received_at})).await.expect(422);
    assert_eq!(after.code(), "authorization_exceeded");
    assert_eq!(app.balance(&s.importer_user, s.importer.id, s.product).await, 1000);
    assert_eq!(refused_codes(app, s.importer.id), vec!["authorization_exceeded", "authorization_exceeded"], "refusals are kept as evidence");

    // Another facility cannot receive against it.
    let other = app.facility(app.region("KZ", "Shymkent").await, FacilityKind::Importer, "Other importer").await;
    app.post(&path, &app.facility_user(&other), json!({"quantity_units": 1, "received_at": received_at})).await.expect(403);
}

#[actix_web::test]
async fn receipts_outside_the_validity_or_under_an_expired_licence_are_refused_and_recorded() {
    let s = setup().await;
    let app = &s.app;
    let today = chrono::Utc::now().date_naive();
    let mut body = authorization(&s, "IA-LATE", 100);
    body["valid_from"] = json!(today.to_string());
    body["valid_until"] = json!(today.to_string());
    let r = app.post("/api/v1/import-authorizations", &s.regulator, body).await.expect(201);
    let id = r.body["import_authorization"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/import-authorizations/{id}/receipts");
    let early = app.post(&path, &s.importer_user, json!({"quantity_units": 10, "received_at": days_ago(2)})).await.expect(422);
    assert_eq!(early.code(), "authorization_not_valid");

    // The licence expired yesterday.
    app.patch(
        &format!("/api/v1/facilities/{}", s.importer.id),
        &s.regulator,
        json!({"licence_valid_until": (today - chrono::Duration::days(1)).to_string()}),
    )
    .await
    .expect(200);
    let expired = app.post(&path, &s.importer_user, json!({"quantity_units": 10, "received_at": chrono::Utc::now()})).await.expect(422);
    assert_eq!(expired.code(), "licence_expired");
    assert_eq!(refused_codes(app, s.importer.id), vec!["authorization_not_valid", "licence_expired"]);
    assert_eq!(app.balance(&s.importer_user, s.importer.id, s.product).await, 0);
}
