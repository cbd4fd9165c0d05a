use diesel::prelude::*;
use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{TestApp, days_ago};

#[actix_web::test]
async fn a_transfer_moves_stock_and_a_short_receipt_is_evidence() {
    let app = TestApp::spawn().await;
    let almaty = app.region("KZ", "Almaty").await;
    let wholesaler = app.facility(almaty, FacilityKind::Wholesaler, "KazPharm").await;
    let pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Pharmacy 1").await;
    let other_pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Pharmacy 2").await;
    let w = app.facility_user(&wholesaler);
    let p = app.facility_user(&pharmacy);
    let product = app.product("morphine", "Morphine 10 mg/ml ampoule", "10", "injection", "ampoule").await;
    app.stock_up(&w, wholesaler.id, product, 150, days_ago(3)).await;

    let shipped_at = days_ago(2);
    let r = app
        .post("/api/v1/transfers", &w, json!({"from_facility_id": wholesaler.id, "to_facility_id": pharmacy.id, "product_id": product, "quantity_units": 100, "shipped_at": shipped_at}))
        .await
        .expect(201);
    assert_eq!(r.body["transfer"]["status"], "in_transit");
    assert_eq!(r.body["stock_event"]["kind"], "transfer_out");
    assert_eq!(r.body["stock_event"]["balance_after_units"], 50);
    let id = r.body["transfer"]["id"].as_i64().unwrap();
    assert_eq!(app.balance(&w, wholesaler.id, product).await, 50);

    // Shipping more than is on hand is refused and recorded.
    let refused = app
        .post("/api/v1/transfers", &w, json!({"from_facility_id": wholesaler.id, "to_facility_id": pharmacy.id, "product_id": product, "quantity_units": 51, "shipped_at": days_ago(1)}))
        .await
        .expect(409);
    assert_eq!(refused.code(), "insufficient_stock");
    assert_eq!(refused.body["balance_at_time_units"], 50);
    assert_eq!(refused.body["shortfall_units"], 1);

    let regulator = app.regulator("KZ");
    let in_transit = app.get("/api/v1/transfers?unconfirmed_days=1", &regulator).await.expect(200);
    assert_eq!(in_transit.body["transfers"][0]["id"], id);
    assert_eq!(app.get("/api/v1/transfers?unconfirmed_days=3", &regulator).await.expect(200).body["meta"]["total"], 0);

    // Only the destination confirms; no more than was shipped; once.
    app.post(
        &format!("/api/v1/transfers/{id}/receipt"),
        &app.facility_user(&other_pharmacy),
        json!({"quantity_units": 95, "received_at": days_ago(1)}),
    )
    .await
    .expect(403);
    let too_many =
        app.post(&format!("/api/v1/transfers/{id}/receipt"), &p, json!({"quantity_units": 101, "received_at": days_ago(1)})).await.expect(422);
    assert_eq!(too_many.pointers(), vec!["/quantity_units"]);
    let r = app.post(&format!("/api/v1/transfers/{id}/receipt"), &p, json!({"quantity_units": 95, "received_at": days_ago(1)})).await.expect(201);
    assert_eq!(r.body["transfer"]["status"], "short");
    assert_eq!(r.body["transfer"]["shortfall_units"], 5);
    assert_eq!(r.body["stock_event"]["kind"], "transfer_in");
    assert_eq!(app.balance(&p, pharmacy.id, product).await, 95);
    let again = app.post(&format!("/api/v1/transfers/{id}/receipt"), &p, json!({"quantity_units": 95, "received_at": days_ago(1)})).await.expect(409);
    assert_eq!(again.code(), "already_received");

    let short = app.get("/api/v1/transfers?status=short", &regulator).await.expect(200);
    assert_eq!(short.body["transfers"].as_array().unwrap().len(), 1);
    // Each facility sees its own transfers only.
    assert_eq!(app.get("/api/v1/transfers", &app.facility_user(&other_pharmacy)).await.expect(200).body["meta"]["total"], 0);
    assert_eq!(app.get("/api/v1/transfers", &p).await.expect(200).body["meta"]["total"], 1);
    app.get(&format!("/api/v1/transfers?facility_id={}", wholesaler.id), &p).await.expect(403);
    app.get("/api/v1/transfers", &app.ministry("KZ")).await.expect(403);

    use tarozi::db::schema::refused_attempts as ra;
    let codes: Vec<String> = ra::table.filter(ra::facility_id.eq(wholesaler.id)).select(ra::code).load(&mut app.conn()).unwrap();
    assert_eq!(codes, vec!["insufficient_stock"]);
}

#[actix_web::test]
async fn transfers_stay_inside_the_country_between_licensed_facilities() {
    let app = TestApp::spawn().await;
    let almaty = app.region("KZ", "Almaty").await;
    let bishkek = app.region("KG", "Bishkek").await;
    let wholesaler = app.facility(almaty, FacilityKind::Wholesaler, "W").await;
    let abroad = app.facility(bishkek, FacilityKind::Pharmacy, "Abroad").await;
    let w = app.facility_user(&wholesaler);
    let product = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&w, wholesaler.id, product, 10, days_ago(3)).await;
    let r = app
        .post("/api/v1/transfers", &w, json!({"from_facility_id": wholesaler.id, "to_facility_id": abroad.id, "product_id": product, "quantity_units": 1, "shipped_at": days_ago(1)}))
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/to_facility_id"]);
    let pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Unlicensed").await;
    app.patch(&format!("/api/v1/facilities/{}", pharmacy.id), &app.regulator("KZ"), json!({"licence_valid_until": "2020-01-01"})).await.expect(200);
    let r = app
        .post("/api/v1/transfers", &w, json!({"from_facility_id": wholesaler.id, "to_facility_id": pharmacy.id, "product_id": product, "quantity_units": 1, "shipped_at": days_ago(1)}))
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/to_facility_id"]);
    // Nobody ships from a facility that is not theirs.
    let other = app.facility(almaty, FacilityKind::Wholesaler, "Other W").await;
    app.post(
        "/api/v1/transfers",
        &app.facility_user(&other),
        json!({"from_facility_id": wholesaler.id, "to_facility_id": other.id, "product_id": product, "quantity_units": 1, "shipped_at": days_ago(1)}),
    )
    .await
    .expect(403);
}
