//! Inputs a fuzzing run found to break the server: each is now a 4xx naming the field, or a
//! per-record answer, and nothing is half-written.

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

fn record(id: &str, product: i64, units: i64) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": days_ago(1),
        "patient_id": "870412300123", "patient_sex": "female", "patient_age": 67, "prescriber_id": "KZ-DOC-1001",
        "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": "cancer"
    })
}

/// A pharmacy in Almaty, its user and a morphine tablet, no stock yet.
async fn pharmacy_with_morphine() -> (TestApp, Facility, TestUser, i64) {
    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek 7").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    (app, pharmacy, user, morphine)
}

fn refused_attempts(app: &TestApp, facility: i64) -> i64 {
    use tarozi::db::schema::refused_attempts::dsl as r;
    r::refused_attempts.filter(r::facility_id.eq(facility)).count().get_result(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn a_nul_character_anywhere_is_a_client_error_naming_where_it_is() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let region = app.region("KZ", "Almaty").await;
    // In a body, the unauthenticated login included.
    let r = app.request(Method::POST, "/api/v1/auth/login", None, Some(&json!({"username": "ad\u{0}min", "password": "x"}))).await.expect(422);
    assert_eq!(r.pointers(), ["/username"], "{}", r.text);
    let r = app
        .post(
            "/api/v1/facilities",
            &admin,
            json!({"name": "Dari\u{0}", "kind": "pharmacy", "licence_number": "L-1", "licence_valid_until": "2099-12-31", "region_id": region}),
        )
        .await
        .expect(422);
    assert_eq!(r.pointers(), ["/name"], "{}", r.text);
    // A member name holding NUL is named too.
    let r = app.post("/api/v1/regions", &admin, json!({"country_code": "KZ", "name": "X", "a\u{0}": 1})).await.expect(422);
    assert_eq!(r.pointers(), ["/a\u{0}"], "{}", r.text);
    // In a query parameter and in a path segment.
    let r = app.get("/api/v1/facilities?country=K%00Z", &admin).await.expect(422);
    assert_eq!(r.body["errors"][0]["parameter"], "country", "{}", r.text);
    app.get("/api/v1/countries/K%00Z/regions", &admin).await.expect(404);
    app.get("/api/v1/countries/KZ/regions", &admin).await.expect(200);
    // Nothing was written.
    let facilities = app.get("/api/v1/facilities", &admin).await.expect(200);
    assert_eq!(facilities.body["meta"]["total"], 0);
}

#[actix_web::test]
async fn a_record_with_a_nul_character_is_rejected_alone_and_the_rest_of_its_batch_is_stored() {
    let (app, pharmacy, user, morphine) = pharmacy_with_morphine().await;
    app.stock_up(&user, pharmacy.id, morphine, 100, days_ago(20)).await;
    let mut records = vec![record("ok-0", morphine, 1)];
    for (i, field) in ["prescriber_id", "prescription_number", "client_record_id"].into_iter().enumerate() {
        let mut bad = record(&format!("bad-{i}"), morphine, 1);
        bad[field] = json!("X\u{0}Y");
        records.push(bad);
    }
    records.push(record("ok-4", morphine, 1));
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user, json!({"records": records})).await.expect(200);
    assert_eq!((r.body["accepted"].as_i64(), r.body["rejected"].as_i64()), (Some(2), Some(3)), "{}", r.text);
    for (i, field) in ["prescriber_id", "prescription_number", "client_record_id"].into_iter().enumerate() {
        let result = &r.body["results"][i + 1];
        assert_eq!(result["status"], "rejected");
        assert_eq!(result["problem"]["errors"][0]["pointer"], format!("/records/{}/{field}", i + 1), "{result}");
    }
    assert_eq!(app.balance(&user, pharmacy.id, morphine).await, 98);
}

#[actix_web::test]
async fn pages_are_bounded_and_the_bound_is_in_the_document() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app.get("/api/v1/facilities?page=200000000000000000", &admin).await.expect(422);
    assert_eq!(r.body["errors"][0]["parameter"], "page", "{}", r.text);
    app.get("/api/v1/facilities?page=99999999999999999999", &admin).await.expect(422);
    app.get("/api/v1/facilities?page=100000&per_page=1000", &admin).await.expect(200);
    app.get("/api/v1/facilities?per_page=1001", &admin).await.expect(422);
    let doc = app.request(Method::GET, "/openapi.json", None, None).await.expect(200).body;
    let params = doc["paths"]["/api/v1/facilities"]["get"]["parameters"].as_array().unwrap().clone();
    let page = params.iter().find(|p| p["name"] == "page").unwrap();
    assert_eq!((page["schema"]["minimum"].as_i64(), page["schema"]["maximum"].as_i64()), (Some(1), Some(100_000)), "{page}");
    let per_page = params.iter().find(|p| p["name"] == "per_page").unwrap();
    assert_eq!(per_page["schema"]["maximum"].as_i64(), Some(1000), "{per_page}");
}

#[actix_web::test]
async fn a_full_batch_refused_for_stock_answers_every_record_and_records_every_refusal() {
    let (app, pharmacy, user, morphine) = pharmacy_with_morphine().await;
    let path = format!("/api/v1/facilities/{}/dispensings", pharmacy.id);
    // No stock at all: 10 000 refusals, past the 8 190 one insert statement could hold.
    let records: Vec<Value> = (0..10_000).map(|i| record(&format!("none-{i}"), morphine, 1)).collect();
    let r = app.post(&path, &user, json!({"records": records})).await.expect(200);
    assert_eq!((r.body["accepted"].as_i64(), r.body["rejected"].as_i64()), (Some(0), Some(10_000)));
    assert!(r.body["results"].as_array().unwrap().iter().all(|x| x["problem"]["code"] == "insufficient_stock"));
    assert_eq!(refused_attempts(&app, pharmacy.id), 10_000);
    // Mixed: 4 000 units of stock, 10 000 one-unit records.
    app.stock_up(&user, pharmacy.id, morphine, 4_000, days_ago(20)).await;
    let records: Vec<Value> = (0..10_000).map(|i| record(&format!("mixed-{i}"), morphine, 1)).collect();
    let r = app.post(&path, &user, json!({"records": records})).await.expect(200);
    assert_eq!((r.body["accepted"].as_i64(), r.body["rejected"].as_i64()), (Some(4_000), Some(6_000)));
    assert_eq!(refused_attempts(&app, pharmacy.id), 16_000);
    assert_eq!(app.balance(&user, pharmacy.id, morphine).await, 0);
}

#[actix_web::test]
async fn figures_beyond_what_their_column_holds_or_what_means_something_are_refused_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let ministry = app.ministry("KZ");
    let morphine = app.substance_id("morphine").await;
    // numeric(20, 6): 14 digits before the point.
    for quantity in [json!("1000000000000000"), json!(1e15), json!("1e40"), json!("1.0000001")] {
        let r = app
            .post(
                "/api/v1/estimates",
                &ministry,
                json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": quantity, "kind": "annual"}),
            )
            .await
            .expect(422);
        assert_eq!(r.pointers(), ["/quantity_g"], "{quantity}: {}", r.text);
    }
    app.post(
        "/api/v1/estimates",
        &ministry,
        json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": "99999999999999.999999", "kind": "annual"}),
    )
    .await
    .expect(201);
    let r = app
        .post(
            "/api/v1/products",
            &admin,
            json!({"name": "M", "substance_id": morphine, "base_mg_per_unit": "1e13", "dosage_form": "tablet", "unit": "tablet"}),
        )
        .await
        .expect(422);
    assert_eq!(r.pointers(), ["/base_mg_per_unit"], "{}", r.text);
    // Population: no area holds 2^63 - 1 people.
    let region = app.region("KZ", "Almaty").await;
    let r = app.put(&format!("/api/v1/regions/{region}/population"), &ministry, json!({"year": 2026, "total": i64::MAX})).await.expect(422);
    assert_eq!(r.pointers(), ["/total"], "{}", r.text);
    // A reporting period in year 1.
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek 7").await;
    let user = app.facility_user(&pharmacy);
    let r = app.post(&format!("/api/v1/facilities/{}/reporting-periods/0001-01/close", pharmacy.id), &user, json!({})).await.expect(422);
    assert_eq!(r.body["errors"][0]["parameter"], "period", "{}", r.text);
}

#[actix_web::test]
async fn names_refuse_control_and_bidirectional_override_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let region = app.region("KZ", "Almaty").await;
    for (field, value) in [("name", "Apteka\u{202E}7"), ("name", "Line\nbreak"), ("licence_number", "LIC\u{1b}[2J"), ("licence_number", "L\u{2066}1")]
    {
        let mut body =
            json!({"name": "Apteka 7", "kind": "pharmacy", "licence_number": "LIC-7", "licence_valid_until": "2099-12-31", "region_id": region});
        body[field] = json!(value);
        let r = app.post("/api/v1/facilities", &admin, body).await.expect(422);
        assert_eq!(r.pointers(), [format!("/{field}")], "{value:?}: {}", r.text);
    }
    // Free text keeps its line breaks.
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari-Darmek 7").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let path = format!("/api/v1/facilities/{}/stock-events", pharmacy.id);
    let event = |reason: &str| json!({"kind": "receipt", "product_id": morphine, "quantity_units": 5, "occurred_at": days_ago(1), "reason": reason});
    app.post(&path, &user, event("delivery note 7\nchecked by two")).await.expect(201);
    let r = app.post(&path, &user, event("hidden \u{202E}txet")).await.expect(422);
    assert_eq!(r.pointers(), ["/reason"], "{}", r.text);
}

#[actix_web::test]
async fn only_dispensing_facilities_have_dispensing_periods() {
    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    for kind in [FacilityKind::Wholesaler, FacilityKind::Importer] {
        let facility = app.facility(region, kind, "Kazpharm").await;
        let user = app.facility_user(&facility);
        let r = app.post(&format!("/api/v1/facilities/{}/reporting-periods/2025-01/close", facility.id), &user, json!({})).await.expect(422);
        assert_eq!(r.code(), "not_a_dispensing_facility");
    }
    let pharmacy = app.facility(region, FacilityKind::Hospital, "City hospital 1").await;
    let user = app.facility_user(&pharmacy);
    app.post(&format!("/api/v1/facilities/{}/reporting-periods/2025-01/close", pharmacy.id), &user, json!({"zero_report": true})).await.expect(201);
}

#[actix_web::test]
async fn a_country_parameter_is_a_two_letter_code_or_refused_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // schemathesis found this one: the CSV file name carried the raw parameter into a header (500).
    let r = app.get("/api/v1/reports/incb/form-a?country=%C3%99%F2%AD%A9%A8%07&quarter=2&year=1961&format=csv", &admin).await.expect(422);
    assert_eq!(r.body["errors"][0]["parameter"], "country", "{}", r.text);
    for path in ["/api/v1/facilities?country=KAZ", "/api/v1/flags?country=K1", "/api/v1/analytics/availability?country=&year=2025"] {
        let r = app.get(path, &admin).await.expect(422);
        assert_eq!(r.body["errors"][0]["parameter"], "country", "{path}: {}", r.text);
    }
    let r = app.get("/api/v1/reports/incb/form-a?country=kz&quarter=2&year=2025&format=csv", &admin).await.expect(200);
    assert!(r.header("content-disposition").unwrap().contains("form-a-KZ-2025"), "{:?}", r.header("content-disposition"));
}
