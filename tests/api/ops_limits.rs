//! Body limits per route: small for ordinary requests, large only for dispensing batches.

use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{TestApp, days_ago};

#[actix_web::test]
async fn a_100_kib_login_body_is_413() {
    let app = TestApp::spawn().await;
    let body = json!({"username": "admin", "password": "x".repeat(100 * 1024)});
    let r = app.request(awc::http::Method::POST, "/api/v1/auth/login", None, Some(&body)).await.expect(413);
    assert_eq!(r.code(), "payload_too_large");
    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
    let admin = app.admin();
    let r = app.post("/api/v1/regions", &admin, json!({"country_code": "KZ", "name": "y".repeat(70 * 1024)})).await.expect(413);
    assert_eq!(r.code(), "payload_too_large");
}

#[actix_web::test]
async fn a_1_mib_dispensing_batch_is_accepted() {
    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek 9").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&user, pharmacy.id, morphine, 10_000, days_ago(20)).await;
    let at = days_ago(1);
    let records: Vec<_> = (0..4_200)
        .map(|i| {
            json!({
                "client_record_id": format!("big-{i}"), "product_id": morphine, "quantity_units": 1, "dispensed_at": at,
                "patient_id": format!("8704123{i:05}"), "patient_sex": "female", "patient_age": 67, "prescriber_id": "KZ-DOC-1001",
                "prescription_number": format!("RX-{i}"), "days_supply": 10, "indication": "cancer"
            })
        })
        .collect();
    let body = json!({"records": records});
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(size > 1024 * 1024, "{size}");
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user, body).await.expect(200);
    assert_eq!(r.body["accepted"], 4_200);
}
