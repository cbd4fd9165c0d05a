//! Availability findings raised into the flag list: planted cases and near misses.

use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::analytics::world;
use crate::helpers::{TestApp, TestUser, days_ago};

async fn scan(app: &TestApp, regulator: &TestUser, country: &str, from: &str, to: &str) -> Value {
    app.scan(regulator, json!({"country_code": country, "from": from, "to": to})).await.body["scan"].clone()
}

async fn flags(app: &TestApp, user: &TestUser, rule: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/flags?rule={rule}&per_page=100"), user).await.expect(200).body["flags"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn very_low_availability_is_raised_for_under_supplied_areas() {
    let w = world().await;
    let app = &w.app;
    let regulator = app.regulator("KG");
    let report = scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await;
    assert!(report["rules"].as_array().unwrap().iter().all(|r| r.get("error").is_none()), "{report}");
    let found = flags(app, &regulator, "very_low_availability").await;
    let osh_id = w.osh.to_string();
    let subjects: Vec<(String, String)> =
        found.iter().map(|f| (f["subject_type"].as_str().unwrap().to_owned(), f["subject_id"].as_str().unwrap().to_owned())).collect();
    assert!(subjects.contains(&("region".into(), w.bishkek.to_string())));
    assert!(subjects.contains(&("region".into(), w.osh.to_string())));
    assert!(subjects.contains(&("country".into(), "KG".into())));
    let osh = found.iter().find(|f| f["subject_id"] == osh_id.as_str()).unwrap();
    assert_eq!(osh["severity"], "high", "10 S-DDD is below half the band's 100");
    assert_eq!(osh["category"], "availability");
    assert_eq!(osh["evidence"]["figures"]["sddd_per_million_per_day"], json!(10));
    // The ministry reads availability findings in full.
    assert_eq!(flags(app, &w.ministry, "very_low_availability").await.len(), 3);

    // A near miss: a small region whose consumption per head is adequate is not flagged.
    let tiny = app.region("KG", "Tiny").await;
    let tiny_id = tiny.to_string();
    app.put(&format!("/api/v1/regions/{tiny}/population"), &w.ministry, json!({"year": 2024, "total": 100})).await.expect(200);
    let wholesaler = app.facility(tiny, FacilityKind::Wholesaler, "Tiny wholesaler").await;
    let pharmacy = app.facility(tiny, FacilityKind::Pharmacy, "Tiny pharmacy").await;
    let (wu, pu) = (app.facility_user(&wholesaler), app.facility_user(&pharmacy));
    let morphine = app.product("morphine", "Morphine 30 mg tablet", "30", "tablet", "tablet").await;
    app.stock_up(&wu, wholesaler.id, morphine, 1000, crate::analytics::at(2024, 6, 1)).await;
    let t = app
        .post("/api/v1/transfers", &wu, json!({"from_facility_id": wholesaler.id, "to_facility_id": pharmacy.id, "product_id": morphine, "quantity_units": 1000, "shipped_at": crate::analytics::at(2024, 6, 2)}))
        .await
        .expect(201);
    let id = t.body["transfer"]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/transfers/{id}/receipt"), &pu, json!({"quantity_units": 1000, "received_at": crate::analytics::at(2024, 6, 3)}))
        .await
        .expect(201);
    scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await;
    let again = flags(app, &regulator, "very_low_availability").await;
    assert!(again.iter().all(|f| f["subject_id"] != tiny_id.as_str()), "300 S-DDD per 100 people is not very low");
    assert_eq!(again.len(), 3, "the rescan updated, not duplicated");
}

#[actix_web::test]
async fn an_estimate_used_below_half_is_a_finding_and_above_half_is_not() {
    let w = world().await;
    let app = &w.app;
    let regulator = app.regulator("KG");
    // Fentanyl 2024: 0.6 g consumed of a 2 g estimate (30 %); morphine 54.9 % of 1 000 g.
    let fentanyl = app.substance_id("fentanyl").await;
    app.post(
        "/api/v1/estimates",
        &regulator,
        json!({"country_code": "KG", "substance_id": fentanyl, "year": 2024, "quantity_g": 2, "kind": "annual"}),
    )
    .await
    .expect(201);
    scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await;
    let found = flags(app, &regulator, "estimate_underused").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["subject_id"], fentanyl.to_string());
    assert_eq!(found[0]["severity"], "medium");
    assert_eq!(found[0]["evidence"]["figures"]["utilization_pct"], json!(30));
    assert_eq!((found[0]["period_from"].as_str(), found[0]["period_to"].as_str()), (Some("2024-01-01"), Some("2024-12-31")));
}

#[actix_web::test]
async fn a_mass_balance_residue_beyond_tolerance_is_a_finding() {
    let w = world().await;
    let app = &w.app;
    let regulator = app.regulator("KG");
    let morphine = app.substance_id("morphine").await.to_string();
    scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await;
    let found = flags(app, &regulator, "mass_balance_residue").await;
    let m = found.iter().find(|f| f["subject_id"] == morphine).expect("the 10 g retail residue is 1.8 % of supply");
    assert_eq!(m["evidence"]["figures"]["retail"]["residue_g"], json!(10));
    let findings_of =
        |scan: &Value| scan["rules"].as_array().unwrap().iter().find(|r| r["code"] == "mass_balance_residue").unwrap()["findings"].as_i64().unwrap();
    let before = findings_of(&scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await);
    // A near miss: with a 2 % tolerance the same 1.8 % residue passes.
    let r = app.patch("/api/v1/rules/mass_balance_residue", &regulator, json!({"params": {"tolerance_pct": 2}})).await.expect(200);
    assert_eq!(r.body["rule"]["version"], 2);
    let after = scan(app, &regulator, "KG", "2024-01-01", "2024-12-31").await;
    assert_eq!(findings_of(&after), before - 1);
    let m = app.get(&format!("/api/v1/flags/{}", m["id"]), &regulator).await.expect(200);
    assert_eq!(m.body["flag"]["rule_version"], 1, "the flag keeps the version that raised it");
}

#[actix_web::test]
async fn stock_outs_and_regions_without_access_points_are_findings() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("TJ");
    let dushanbe = app.region("TJ", "Dushanbe").await;
    let khatlon = app.region("TJ", "Khatlon").await;
    let empty = app.region("TJ", "Gorno-Badakhshan").await;
    let out = app.facility(dushanbe, FacilityKind::Pharmacy, "Out for ten days").await;
    let recent = app.facility(khatlon, FacilityKind::Pharmacy, "Out for three days").await;
    let product = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    for (f, days) in [(&out, 10), (&recent, 3)] {
        let user = app.facility_user(f);
        app.stock_up(&user, f.id, product, 5, days_ago(days + 1)).await;
        app.post(
            &format!("/api/v1/facilities/{}/stock-events", f.id),
            &user,
            json!({"kind": "destruction", "product_id": product, "quantity_units": 5, "occurred_at": days_ago(days)}),
        )
        .await
        .expect(201);
    }
    let today = chrono::Utc::now().date_naive();
    let report = app.get("/api/v1/analytics/stock-outs", &app.ministry("TJ")).await.expect(200);
    let stock_outs = report.body["stock_outs"].as_array().unwrap();
    assert_eq!(stock_outs.len(), 2);
    assert_eq!(stock_outs.iter().find(|s| s["facility_id"] == out.id).unwrap()["days_at_zero"], 10);
    let access: Vec<(i64, i64)> = report.body["access_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["region_id"].as_i64().unwrap(), a["dispensing_facilities"].as_i64().unwrap()))
        .collect();
    assert!(access.contains(&(empty, 0)) && access.contains(&(dushanbe, 1)));

    app.scan(&regulator, json!({"country_code": "TJ", "from": (today - chrono::Duration::days(30)), "to": today})).await;
    let so = flags(&app, &regulator, "stock_out").await;
    assert_eq!(so.len(), 1, "three days at zero is under the 7-day threshold");
    assert_eq!(so[0]["facility_id"], out.id);
    assert_eq!(so[0]["evidence"]["figures"]["products"][0]["days_at_zero"], 10);
    let nap = flags(&app, &regulator, "no_access_point").await;
    assert_eq!(nap.len(), 1);
    assert_eq!(nap[0]["subject_id"], empty.to_string());
    assert_eq!(nap[0]["severity"], "high");
}
