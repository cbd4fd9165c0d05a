use diesel::prelude::*;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn every_shipped_substance_is_seeded_with_its_source() {
    let app = TestApp::spawn().await;
    let user = app.ministry("UZ");
    let r = app.get("/api/v1/substances?per_page=100", &user).await.expect(200);
    let substances = r.body["substances"].as_array().unwrap();
    let csv = include_str!("../../reference/substances.csv");
    assert_eq!(substances.len(), csv.lines().count() - 1);
    let morphine = substances.iter().find(|s| s["inn"] == "morphine").unwrap();
    assert_eq!(morphine["sddd_mg"], json!(100));
    assert_eq!(morphine["me_factor"], json!(1));
    assert_eq!(morphine["convention"], "1961");
    assert_eq!(morphine["schedule"], "I");
    assert_eq!(morphine["salt_base_factor"].to_string(), "0.7521");
    assert!(morphine["source"].as_str().unwrap().contains("reference/substances.csv"));
    let fentanyl = substances.iter().find(|s| s["inn"] == "fentanyl").unwrap();
    assert_eq!(fentanyl["sddd_mg"].to_string(), "0.6");
    assert_eq!(fentanyl["transdermal_mme_per_mcg_h"].to_string(), "2.4");
    let methadone = substances.iter().find(|s| s["inn"] == "methadone").unwrap();
    assert!(methadone["sddd_mg"].is_null());
    assert_eq!(methadone["sddd_status"], "not configured");
    let tramadol = substances.iter().find(|s| s["inn"] == "tramadol").unwrap();
    assert_eq!(tramadol["convention"], "none");
    assert!(tramadol["schedule"].is_null());
}

#[actix_web::test]
async fn editing_a_substance_adds_a_version_and_keeps_history() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let id = app.substance_id("methadone").await;
    let r = app
        .patch(
            &format!("/api/v1/substances/{id}"),
            &admin,
            json!({"effective_from": "2026-01-01", "sddd_mg": "25", "sddd_status": "INCB S-DDD table 2025", "source": "INCB technical report 2025, S-DDD annex"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["substance"]["sddd_mg"], json!(25));
    assert_eq!(r.body["substance"]["me_factor"].to_string(), "4.7", "unchanged fields carry over");

    let before = app.get("/api/v1/substances?as_of=2025-12-31&per_page=100", &admin).await.expect(200);
    let old = before.body["substances"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap().clone();
    assert!(old["sddd_mg"].is_null(), "the earlier version is still in force before the new date");
    let after = app.get("/api/v1/substances?as_of=2026-06-30&per_page=100", &admin).await.expect(200);
    let new = after.body["substances"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(new["sddd_mg"], json!(25));

    use tarozi::db::schema::substance_reference_values as v;
    let versions: i64 = v::table.filter(v::substance_id.eq(id)).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(versions, 2);

    // Only admin edits reference data; bad values name their field.
    let ministry = app.ministry("KZ");
    app.patch(&format!("/api/v1/substances/{id}"), &ministry, json!({"sddd_mg": 1, "source": "x-source"})).await.expect(403);
    let bad = app.patch(&format!("/api/v1/substances/{id}"), &admin, json!({"sddd_mg": -1, "source": "a source"})).await.expect(422);
    assert_eq!(bad.pointers(), vec!["/sddd_mg"]);
    let missing_source = app.patch(&format!("/api/v1/substances/{id}"), &admin, json!({"sddd_mg": 1})).await.expect(422);
    assert_eq!(missing_source.pointers(), vec!["/source"]);
    app.patch("/api/v1/substances/999999", &admin, json!({"sddd_mg": 1, "source": "a source"})).await.expect(404);
}

#[actix_web::test]
async fn admin_adds_a_substance_with_its_first_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(
            "/api/v1/substances",
            &admin,
            json!({"inn": "nalbuphine", "convention": "none", "sddd_status": "not configured", "me_factor": "1", "source": "national list 2026"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["substance"]["inn"], "nalbuphine");
    let dup = app
        .post("/api/v1/substances", &admin, json!({"inn": "nalbuphine", "convention": "none", "sddd_status": "x", "source": "national list"}))
        .await
        .expect(409);
    assert_eq!(dup.code(), "substance_exists");
}

#[actix_web::test]
async fn product_base_content_is_kept_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let fentanyl = app.substance_id("fentanyl").await;
    let r = app
        .post(
            "/api/v1/products",
            &admin,
            json!({"name": "Fentanyl 12 mcg/h patch", "substance_id": fentanyl, "base_mg_per_unit": "2.062500", "dosage_form": "transdermal_patch", "unit": "patch", "delivery_mcg_per_hour": 12.5}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["product"]["base_mg_per_unit"].to_string(), "2.0625");
    assert_eq!(r.body["product"]["delivery_mcg_per_hour"].to_string(), "12.5");
    let morphine = app.substance_id("morphine").await;
    let r = app
        .post("/api/v1/products", &admin, json!({"name": "Morphine 0.1 mg/ml", "substance_id": morphine, "base_mg_per_unit": 0.000001, "dosage_form": "injection", "unit": "ampoule"}))
        .await
        .expect(201);
    assert_eq!(r.body["product"]["base_mg_per_unit"].to_string(), "0.000001");
    let list = app.get(&format!("/api/v1/products?substance_id={morphine}"), &admin).await.expect(200);
    assert_eq!(list.body["products"].as_array().unwrap().len(), 1);

    let cases = [
        (
            json!({"name": "p1", "substance_id": morphine, "base_mg_per_unit": "0.0000001", "dosage_form": "tablet", "unit": "tablet"}),
            "/base_mg_per_unit",
        ),
        (json!({"name": "p2", "substance_id": morphine, "base_mg_per_unit": 0, "dosage_form": "tablet", "unit": "tablet"}), "/base_mg_per_unit"),
        (json!({"name": "p3", "substance_id": morphine, "base_mg_per_unit": "ten", "dosage_form": "tablet", "unit": "tablet"}), "/base_mg_per_unit"),
        (
            json!({"name": "p4", "substance_id": fentanyl, "base_mg_per_unit": "4.2", "dosage_form": "transdermal_patch", "unit": "patch"}),
            "/delivery_mcg_per_hour",
        ),
        (
            json!({"name": "p5", "substance_id": morphine, "base_mg_per_unit": "10", "dosage_form": "tablet", "unit": "tablet", "delivery_mcg_per_hour": 5}),
            "/delivery_mcg_per_hour",
        ),
        (json!({"name": "p6", "substance_id": 999999, "base_mg_per_unit": "10", "dosage_form": "tablet", "unit": "tablet"}), "/substance_id"),
        (json!({"name": "p7", "substance_id": morphine, "base_mg_per_unit": "10", "dosage_form": "powder", "unit": "tablet"}), "/dosage_form"),
    ];
    for (body, pointer) in cases {
        let r = app.post("/api/v1/products", &admin, body.clone()).await.expect(422);
        assert_eq!(r.pointers(), vec![pointer.to_owned()], "body {body}");
    }
}

#[actix_web::test]
async fn countries_come_with_their_sourced_population() {
    let app = TestApp::spawn().await;
    let user = app.regional();
    let r = app.get("/api/v1/countries", &user).await.expect(200);
    let countries = r.body["countries"].as_array().unwrap();
    let codes: Vec<&str> = countries.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["KG", "KZ", "TJ", "TM", "UZ"]);
    let kz = countries.iter().find(|c| c["code"] == "KZ").unwrap();
    assert_eq!(kz["population"], 20495975);
    assert_eq!(kz["population_date"], "2026-01-01");
    assert!(kz["population_source"].as_str().unwrap().contains("Bureau of National Statistics"));
}

#[actix_web::test]
async fn regions_hold_population_by_year_sex_and_age_band() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("KZ");
    let r = app.post("/api/v1/regions", &ministry, json!({"country_code": "KZ", "name": "Almaty city", "code": "ALA"})).await.expect(201);
    let id = r.body["region"]["id"].as_i64().unwrap();
    let bands = ["0-14", "15-29", "30-44", "45-59", "60-74", "75+"];
    let mut groups = Vec::new();
    for sex in ["female", "male"] {
        for band in bands {
            groups.push(json!({"sex": sex, "age_band": band, "count": 100000}));
        }
    }
    let r = app
        .put(
            &format!("/api/v1/regions/{id}/population"),
            &ministry,
            json!({"year": 2026, "total": 1200000, "by_sex_age": groups, "source": "BNS 2026"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["region"]["populations"][0]["total"], 1200000);
    assert_eq!(r.body["region"]["populations"][0]["by_sex_age"].as_array().unwrap().len(), 12);
    // A later correction replaces the year's figures.
    app.put(&format!("/api/v1/regions/{id}/population"), &ministry, json!({"year": 2026, "total": 1250000})).await.expect(200);
    let list = app.get("/api/v1/countries/KZ/regions", &ministry).await.expect(200);
    let region = &list.body["regions"][0];
    assert_eq!(region["populations"][0]["total"], 1250000);
    assert_eq!(region["populations"][0]["by_sex_age"].as_array().unwrap().len(), 0);

    let mut wrong_sum = groups.clone();
    wrong_sum[0]["count"] = json!(1);
    let r = app
        .put(&format!("/api/v1/regions/{id}/population"), &ministry, json!({"year": 2027, "total": 1200000, "by_sex_age": wrong_sum}))
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/by_sex_age"]);
    let mut twice = groups.clone();
    twice[1] = twice[0].clone();
    let r = app
        .put(&format!("/api/v1/regions/{id}/population"), &ministry, json!({"year": 2027, "total": 1200000, "by_sex_age": twice}))
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/by_sex_age/1"]);
    let r = app.put(&format!("/api/v1/regions/{id}/population"), &ministry, json!({"year": 2027, "total": 0})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/total"]);
    let mut negative = groups.clone();
    negative[3]["count"] = json!(-5);
    let r =
        app.put(&format!("/api/v1/regions/{id}/population"), &ministry, json!({"year": 2027, "total": 1, "by_sex_age": negative})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/by_sex_age/3/count"]);

    let dup = app.post("/api/v1/regions", &ministry, json!({"country_code": "KZ", "name": "Almaty city"})).await.expect(409);
    assert_eq!(dup.code(), "region_exists");
}
