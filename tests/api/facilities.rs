use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_regulator_licenses_and_updates_facilities_of_its_country() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("UZ");
    let region = app.region("UZ", "Tashkent city").await;
    let r = app
        .post(
            "/api/v1/facilities",
            &regulator,
            json!({"name": "Dori-Darmon 12", "kind": "pharmacy", "licence_number": "UZ-PH-0012", "licence_valid_until": "2027-06-30", "region_id": region}),
        )
        .await
        .expect(201);
    let facility = &r.body["facility"];
    assert_eq!(facility["country_code"], "UZ", "the country is the region's");
    let id = facility["id"].as_i64().unwrap();

    let r = app.patch(&format!("/api/v1/facilities/{id}"), &regulator, json!({"licence_valid_until": "2028-06-30"})).await.expect(200);
    assert_eq!(r.body["facility"]["licence_valid_until"], "2028-06-30");
    assert_eq!(r.body["facility"]["name"], "Dori-Darmon 12");
    let got = app.get(&format!("/api/v1/facilities/{id}"), &regulator).await.expect(200);
    assert_eq!(got.body["facility"]["licence_valid_until"], "2028-06-30");

    let dup = app
        .post(
            "/api/v1/facilities",
            &regulator,
            json!({"name": "Other", "kind": "pharmacy", "licence_number": "UZ-PH-0012", "licence_valid_until": "2027-06-30", "region_id": region}),
        )
        .await
        .expect(409);
    assert_eq!(dup.pointers(), vec!["/licence_number"]);

    // Another country's region is out of the regulator's reach.
    let kz_region = app.region("KZ", "Astana").await;
    app.post(
        "/api/v1/facilities",
        &regulator,
        json!({"name": "X", "kind": "pharmacy", "licence_number": "KZ-1", "licence_valid_until": "2027-06-30", "region_id": kz_region}),
    )
    .await
    .expect(403);
    let wrong_region = app.patch(&format!("/api/v1/facilities/{id}"), &regulator, json!({"region_id": kz_region})).await.expect(422);
    assert_eq!(wrong_region.pointers(), vec!["/region_id"]);
}

#[actix_web::test]
async fn facility_listings_are_scoped_to_the_caller() {
    let app = TestApp::spawn().await;
    let almaty = app.region("KZ", "Almaty").await;
    let bishkek = app.region("KG", "Bishkek").await;
    let kz_pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "KZ pharmacy").await;
    let kz_other = app.facility(almaty, FacilityKind::Pharmacy, "KZ other pharmacy").await;
    let kg_pharmacy = app.facility(bishkek, FacilityKind::Pharmacy, "KG pharmacy").await;

    let ids = |r: &crate::helpers::TestResponse| -> Vec<i64> {
        r.body["facilities"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect()
    };
    let pharmacist = app.facility_user(&kz_pharmacy);
    assert_eq!(ids(&app.get("/api/v1/facilities", &pharmacist).await.expect(200)), vec![kz_pharmacy.id]);
    let ministry = app.ministry("KZ");
    assert_eq!(ids(&app.get("/api/v1/facilities", &ministry).await.expect(200)), vec![kz_pharmacy.id, kz_other.id]);
    app.get("/api/v1/facilities?country=KG", &ministry).await.expect(403);
    let admin = app.admin();
    assert_eq!(ids(&app.get("/api/v1/facilities?country=KG", &admin).await.expect(200)), vec![kg_pharmacy.id]);
    assert_eq!(ids(&app.get("/api/v1/facilities?kind=pharmacy&per_page=1&page=2", &admin).await.expect(200)), vec![kz_other.id]);
}
