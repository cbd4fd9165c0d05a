use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn annual_and_supplementary_estimates_add_up_to_the_total_in_force() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("KZ");
    let morphine = app.substance_id("morphine").await;
    app.post("/api/v1/estimates", &ministry, json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": "15000.5", "kind": "annual", "reference": "INCB 2025/123"}))
        .await
        .expect(201);
    let regulator = app.regulator("KZ");
    let r = app
        .post(
            "/api/v1/estimates",
            &regulator,
            json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": 2000.25, "kind": "supplementary"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["estimate"]["quantity_g"].to_string(), "2000.25");
    let list = app.get("/api/v1/estimates?year=2026", &ministry).await.expect(200);
    assert_eq!(list.body["estimates"].as_array().unwrap().len(), 2);
    let total = &list.body["totals"][0];
    assert_eq!(total["annual_g"].to_string(), "15000.5");
    assert_eq!(total["supplementary_g"].to_string(), "2000.25");
    assert_eq!(total["total_g"].to_string(), "17000.75");

    let again = app
        .post(
            "/api/v1/estimates",
            &ministry,
            json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": 1, "kind": "annual"}),
        )
        .await
        .expect(409);
    assert_eq!(again.code(), "annual_estimate_exists");
    let bad = app
        .post(
            "/api/v1/estimates",
            &ministry,
            json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": "-3", "kind": "supplementary"}),
        )
        .await
        .expect(422);
    assert_eq!(bad.pointers(), vec!["/quantity_g"]);
}

#[actix_web::test]
async fn estimates_belong_to_their_country() {
    let app = TestApp::spawn().await;
    let morphine = app.substance_id("morphine").await;
    let kg_ministry = app.ministry("KG");
    let body = json!({"country_code": "KZ", "substance_id": morphine, "year": 2026, "quantity_g": 10, "kind": "annual"});
    app.post("/api/v1/estimates", &kg_ministry, body.clone()).await.expect(403);
    app.get("/api/v1/estimates?country=KZ", &kg_ministry).await.expect(403);
    let almaty = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(almaty, tarozi::db::enums::FacilityKind::Pharmacy, "P").await;
    let pharmacist = app.facility_user(&pharmacy);
    app.post("/api/v1/estimates", &pharmacist, body.clone()).await.expect(403);
    app.get("/api/v1/estimates", &pharmacist).await.expect(403);
    app.post("/api/v1/estimates", &app.admin(), body).await.expect(403);
}
