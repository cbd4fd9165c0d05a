//! The rule engine and the flag workflow, through the `negative_balance_attempt` rule.

use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

struct Setup {
    app: TestApp,
    pharmacy: Facility,
    pharmacist: TestUser,
    regulator: TestUser,
}

/// A pharmacy that tried to destroy stock it did not have.
async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Pharmacy").await;
    let pharmacist = app.facility_user(&pharmacy);
    let product = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.post(
        &format!("/api/v1/facilities/{}/stock-events", pharmacy.id),
        &pharmacist,
        json!({"kind": "destruction", "product_id": product, "quantity_units": 5, "occurred_at": days_ago(2)}),
    )
    .await
    .expect(409);
    let regulator = app.regulator("KZ");
    Setup { app, pharmacy, pharmacist, regulator }
}

fn period() -> serde_json::Value {
    json!({"country_code": "KZ", "from": days_ago(10).date_naive(), "to": days_ago(0).date_naive()})
}

async fn scan(s: &Setup) -> serde_json::Value {
    s.app.scan(&s.regulator, period()).await.body["scan"].clone()
}

async fn the_flag(s: &Setup) -> serde_json::Value {
    let list = s.app.get("/api/v1/flags?rule=negative_balance_attempt", &s.regulator).await.expect(200);
    assert_eq!(list.body["flags"].as_array().unwrap().len(), 1, "{}", list.text);
    list.body["flags"][0].clone()
}

#[actix_web::test]
async fn a_scan_raises_an_explained_flag_and_a_rescan_updates_it() {
    let s = setup().await;
    let first = scan(&s).await;
    assert!(first["flags_raised"].as_i64().unwrap() >= 1);
    let flag = the_flag(&s).await;
    assert_eq!(flag["subject_type"], "facility");
    assert_eq!(flag["subject_id"], s.pharmacy.id.to_string());
    assert_eq!(flag["facility_id"], s.pharmacy.id);
    assert_eq!(flag["status"], "open");
    assert_eq!(flag["rule_version"], 1);
    assert_eq!(flag["evidence"]["figures"]["attempts"], 1);
    assert_eq!(flag["evidence"]["records"]["refused_attempts"].as_array().unwrap().len(), 1);
    assert_eq!(flag["evidence"]["thresholds"]["min_attempts"], 1);
    assert_eq!(flag["params"]["min_attempts"], 1);
    let rules = first["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r.get("error").is_none()), "{rules:?}");

    let again = scan(&s).await;
    assert_eq!(again["flags_raised"], 0);
    assert!(again["flags_updated"].as_i64().unwrap() >= 1);
    assert_eq!(the_flag(&s).await["id"], flag["id"], "rescanning the period keeps one flag");
}

#[actix_web::test]
async fn changing_a_rule_bumps_its_version_and_shadow_flags_stay_out_of_default_lists() {
    let s = setup().await;
    let app = &s.app;
    let r = app.patch("/api/v1/rules/negative_balance_attempt", &s.regulator, json!({"params": {"min_attempts": 2}})).await.expect(200);
    assert_eq!(r.body["rule"]["version"], 2);
    assert_eq!(r.body["rule"]["params"]["min_attempts"], 2);
    assert_eq!(r.body["rule"]["params"]["high_from"], 3, "other parameters are kept");
    let s1 = scan(&s).await;
    let report = s1["rules"].as_array().unwrap().iter().find(|r| r["code"] == "negative_balance_attempt").unwrap().clone();
    assert_eq!(report["findings"], 0, "one attempt is below the new threshold");

    app.patch("/api/v1/rules/negative_balance_attempt", &s.regulator, json!({"params": {"min_attempts": 1}, "mode": "shadow"})).await.expect(200);
    scan(&s).await;
    let default = app.get("/api/v1/flags?rule=negative_balance_attempt", &s.regulator).await.expect(200);
    assert_eq!(default.body["flags"].as_array().unwrap().len(), 0);
    let shadow = app.get("/api/v1/flags?rule=negative_balance_attempt&mode=shadow", &s.regulator).await.expect(200);
    assert_eq!(shadow.body["flags"][0]["rule_version"], 3);
    assert_eq!(shadow.body["flags"][0]["mode"], "shadow");
    app.get("/api/v1/flags?mode=shadow", &s.pharmacist).await.expect(403);

    // Rules belong to a country; bad parameters name the field.
    let rules = app.get("/api/v1/rules", &app.ministry("KZ")).await.expect(200);
    assert_eq!(rules.body["rules"].as_array().unwrap().len(), 21);
    let other = app.get("/api/v1/rules", &app.regulator("UZ")).await.expect(200);
    let nba = other.body["rules"].as_array().unwrap().iter().find(|r| r["code"] == "negative_balance_attempt").unwrap().clone();
    assert_eq!(nba["version"], 1, "another country's rule is untouched");
    let bad = app.patch("/api/v1/rules/negative_balance_attempt", &s.regulator, json!({"params": {"min_attempts": "many"}})).await.expect(422);
    assert_eq!(bad.pointers(), vec!["/params"]);
    let unknown = app.patch("/api/v1/rules/negative_balance_attempt", &s.regulator, json!({"params": {"colour": 1}})).await.expect(422);
    assert_eq!(unknown.pointers(), vec!["/params"]);
    app.patch("/api/v1/rules/no_such_rule", &s.regulator, json!({"enabled": false})).await.expect(404);
    // Parameters are stored in their normal form: a decimal sent as a string is a number.
    let normal = app.patch("/api/v1/rules/mass_balance_residue", &s.regulator, json!({"params": {"tolerance_pct": "2.5"}})).await.expect(200);
    assert_eq!(normal.body["rule"]["params"], json!({"tolerance_pct": 2.5}));
    app.patch("/api/v1/rules/negative_balance_attempt", &app.ministry("KZ"), json!({"enabled": false})).await.expect(403);
    app.get("/api/v1/rules", &s.pharmacist).await.expect(403);
}

#[actix_web::test]
async fn a_flag_moves_through_review_with_reasons_comments_and_assignment() {
    let s = setup().await;
    let app = &s.app;
    scan(&s).await;
    let id = the_flag(&s).await["id"].as_i64().unwrap();
    let path = format!("/api/v1/flags/{id}");
    app.patch(&path, &s.regulator, json!({"status": "under_review"})).await.expect(200);
    let no_reason = app.patch(&path, &s.regulator, json!({"status": "dismissed"})).await.expect(422);
    assert_eq!(no_reason.pointers(), vec!["/note"]);
    app.patch(&path, &s.regulator, json!({"status": "dismissed", "note": "stock count error, corrected"})).await.expect(200);
    app.patch(&path, &s.regulator, json!({"status": "open", "note": "new evidence"})).await.expect(200);
    let r = app.patch(&path, &s.regulator, json!({"status": "confirmed", "note": "diversion confirmed on inspection"})).await.expect(200);
    assert_eq!(r.body["flag"]["status"], "confirmed");
    let bad = app.patch(&path, &s.regulator, json!({"status": "under_review"})).await.expect(422);
    assert_eq!(bad.code(), "invalid_transition");

    let colleague = app.regulator("KZ");
    let r = app.patch(&path, &s.regulator, json!({"assigned_to": colleague.id})).await.expect(200);
    assert_eq!(r.body["flag"]["assigned_to"], colleague.id);
    let wrong = app.patch(&path, &s.regulator, json!({"assigned_to": app.ministry("KZ").id})).await.expect(422);
    assert_eq!(wrong.pointers(), vec!["/assigned_to"]);

    app.post(&format!("{path}/comments"), &s.regulator, json!({"body": "inspect the safe log", "visibility": "internal"})).await.expect(201);
    app.post(&format!("{path}/comments"), &s.regulator, json!({"body": "please explain the refused destruction", "visibility": "official"}))
        .await
        .expect(201);
    app.post(&format!("{path}/comments"), &s.pharmacist, json!({"body": "x", "visibility": "official"})).await.expect(403);

    let full = app.get(&path, &s.regulator).await.expect(200);
    let actions: Vec<&str> = full.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["raised", "status", "status", "status", "status", "assigned", "comment", "comment"]);

    // The pharmacy sees its flag without evidence, and official comments only.
    let seen = app.get(&path, &s.pharmacist).await.expect(200);
    assert!(seen.body["flag"].get("evidence").is_none());
    let notes: Vec<&str> = seen.body["events"].as_array().unwrap().iter().map(|e| e["note"].as_str().unwrap()).collect();
    assert_eq!(notes, vec!["please explain the refused destruction"]);
    let own = app.get("/api/v1/flags", &s.pharmacist).await.expect(200);
    assert_eq!(own.body["flags"].as_array().unwrap().len(), 1);
    let other = app.facility(app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "Other").await;
    let other_user = app.facility_user(&other);
    app.get(&path, &other_user).await.expect(403);
    assert_eq!(app.get("/api/v1/flags", &other_user).await.expect(200).body["flags"].as_array().unwrap().len(), 0);

    // The ministry reads diversion flags only as counts.
    let ministry = app.ministry("KZ");
    app.get(&path, &ministry).await.expect(403);
    let list = app.get("/api/v1/flags?status=confirmed", &ministry).await.expect(200);
    assert_eq!(list.body["flags"].as_array().unwrap().len(), 0);
    assert!(list.body["counts"].as_array().unwrap().iter().any(|c| c["rule"] == "negative_balance_attempt" && c["count"] == 1));
    app.get(&path, &app.regulator("UZ")).await.expect(403);
    app.get("/api/v1/flags", &app.regional()).await.expect(403);
    app.patch(&path, &ministry, json!({"status": "open"})).await.expect(403);
}

#[actix_web::test]
async fn scans_are_the_regulators_and_check_their_period() {
    let s = setup().await;
    let app = &s.app;
    app.post("/api/v1/diversion/scans", &app.ministry("KZ"), period()).await.expect(403);
    app.post("/api/v1/diversion/scans", &app.regulator("UZ"), period()).await.expect(403);
    let r =
        app.post("/api/v1/diversion/scans", &s.regulator, json!({"country_code": "KZ", "from": "2026-02-01", "to": "2026-01-01"})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/to"]);
}

#[actix_web::test]
async fn the_scheduled_scan_covers_the_previous_day_of_every_country() {
    use diesel::prelude::*;
    use tarozi::db::schema::scans;
    let s = setup().await;
    tarozi::startup::spawn_scheduled_scans(s.app.shared.state.pool.clone(), std::time::Duration::from_millis(50), 10);
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let countries: Vec<String> = scans::table
            .filter(scans::trigger.eq("scheduled"))
            .filter(scans::period_from.eq(yesterday))
            .filter(scans::period_to.eq(yesterday))
            .select(scans::country_code)
            .load(&mut s.app.conn())
            .unwrap();
        if countries.len() >= 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no scheduled scan ran");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
