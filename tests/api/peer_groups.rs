//! Outlier rules that never go silent (issue 13, point 7) and flags a rescan no longer finds
//! (point 8).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

/// One chronic non-cancer record of `units` morphine 10 mg tablets.
fn record(id: &str, product: i64, units: i64, at: DateTime<Utc>, patient: &str, prescriber: &str) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": at,
        "patient_id": patient, "patient_sex": "female", "patient_age": 61, "prescriber_id": prescriber,
        "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": "chronic_non_cancer"
    })
}

struct Dispenser {
    facility: Facility,
    user: TestUser,
    /// The facility's name with dashes for spaces: its prescriber is `DOC-<name>`.
    name: String,
}

/// `patients` patients at a new facility of `region`, each given `units` tablets by the
/// facility's own prescriber; returns the facility and its records' ids.
async fn dispenser(app: &TestApp, product: i64, region: i64, kind: FacilityKind, name: &str, units: i64, patients: usize) -> (Dispenser, Vec<i64>) {
    let facility = app.facility(region, kind, name).await;
    let user = app.facility_user(&facility);
    app.stock_up(&user, facility.id, product, 5_000, days_ago(20)).await;
    let d = Dispenser { facility, user, name: name.replace(' ', "-") };
    let ids = dispense(app, product, &d, "r", units, patients).await;
    (d, ids)
}

async fn dispense(app: &TestApp, product: i64, d: &Dispenser, prefix: &str, units: i64, patients: usize) -> Vec<i64> {
    let name = &d.name;
    let records: Vec<Value> =
        (0..patients).map(|k| record(&format!("{prefix}{k}"), product, units, days_ago(3), &format!("{name}-{k}"), &format!("DOC-{name}"))).collect();
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", d.facility.id), &d.user, json!({ "records": records })).await.expect(200);
    assert_eq!(r.body["accepted"], patients, "{}", r.text);
    r.body["results"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
}

fn rule<'a>(scan: &'a Value, code: &str) -> &'a Value {
    scan["scan"]["rules"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap()
}

async fn flags(app: &TestApp, regulator: &TestUser, rule: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/flags?rule={rule}"), regulator).await.expect(200).body["flags"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn small_regions_compare_with_the_country_and_a_rescan_marks_what_it_no_longer_finds() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    // Three regions of three pharmacies, ten patients each, every patient of a pharmacy given
    // the same number of tablets: 10, 11, 12 | 12, 13, 14 | 11, 12, 48 (48 = 4 × the median 12).
    let mut outlier = None;
    let mut outlier_ids = Vec::new();
    for (region_name, units) in [("Almaty", [10, 11, 12]), ("Astana", [12, 13, 14]), ("Shymkent", [11, 12, 48])] {
        let region = app.region("KZ", region_name).await;
        for (i, u) in units.into_iter().enumerate() {
            let (d, ids) = dispenser(&app, morphine, region, FacilityKind::Pharmacy, &format!("{region_name} {i}"), u, 10).await;
            if u == 48 {
                outlier = Some(d);
                outlier_ids = ids;
            }
        }
    }
    let outlier = outlier.unwrap();
    let karaganda = app.region("KZ", "Karaganda").await;
    // Not comparable: a pharmacy with two patients (min_patients 10), and a hospital with no
    // other hospital in the country (min_peers 5); its prescriber (ten records of 12 tablets)
    // still counts among prescribers. The small pharmacy's prescriber has two records (min 5).
    dispenser(&app, morphine, karaganda, FacilityKind::Pharmacy, "Small", 12, 2).await;
    dispenser(&app, morphine, karaganda, FacilityKind::Hospital, "Hospital", 12, 10).await;

    let (from, to) = (days_ago(10).date_naive(), Utc::now().date_naive());
    let period = json!({"country_code": "KZ", "from": from, "to": to});
    let first = app.scan(&regulator, period.clone()).await;

    // Per patient, ME mg = tablets × 10 mg × ME factor 1: 100, 110, 120, 120, 130, 140, 110,
    // 120, 480. Median 120; |ln(x ÷ 120)| sorted: 0, 0, 0, 0.080, 0.087, 0.087, 0.154, 0.182,
    // 1.386, so MAD = ln(120 ÷ 110) = 0.0870 and z(480) = 0.6745 × 1.386 ÷ 0.0870 = 10.7 (high).
    // No region holds five pharmacies: before the fallback no pharmacy was compared at all.
    let peer = flags(&app, &regulator, "peer_outlier").await;
    assert_eq!(peer.len(), 1, "{peer:?}");
    let flag = &peer[0];
    assert_eq!(flag["subject_id"], outlier.facility.id.to_string());
    assert_eq!(flag["severity"], "high");
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["peer_group"], "country");
    assert_eq!(figures["mme_mg_per_patient"].to_string(), "480");
    assert_eq!(figures["group_median_mme_mg_per_patient"].as_f64(), Some(120.0));
    assert_eq!((figures["peer_count"].as_i64(), figures["group_size"].as_i64()), (Some(8), Some(9)));
    let z = figures["z"].as_f64().unwrap();
    assert!((10.6..10.8).contains(&z), "{z}");
    let report = rule(&first.body, "peer_outlier");
    assert_eq!(report["evaluated"], 9);
    assert_eq!(report["not_evaluated"], json!([{"reason": "too_few_patients", "count": 1}, {"reason": "too_few_peers", "count": 1}]));

    // Prescribers (one per facility, min_records 5, min_peers 10): no region has ten, so the
    // country's ten compare: 1 000, 1 100, 1 100, 1 200 × 4, 1 300, 1 400 and 4 800 ME mg.
    // Median 1 200, MAD (0.080 + 0.087) ÷ 2 = 0.0835, z(4 800) = 0.6745 × 1.386 ÷ 0.0835 = 11.2.
    let prescriber = flags(&app, &regulator, "prescriber_outlier").await;
    assert_eq!(prescriber.len(), 1, "{prescriber:?}");
    assert_eq!(prescriber[0]["subject_id"], "DOC-Shymkent-2");
    assert_eq!(prescriber[0]["evidence"]["figures"]["peer_group"], "country");
    assert_eq!(prescriber[0]["evidence"]["figures"]["group_size"], 10);
    assert_eq!(prescriber[0]["evidence"]["figures"]["group_median_mme_mg"].as_f64(), Some(1200.0));
    let report = rule(&first.body, "prescriber_outlier");
    assert_eq!(report["evaluated"], 10);
    assert_eq!(report["not_evaluated"], json!([{"reason": "too_few_records", "count": 1}]));
    // Rules over events report no subjects.
    assert!(rule(&first.body, "negative_balance_attempt")["evaluated"].is_null());

    // The peer flag goes under review; the prescriber flag is confirmed.
    let peer_id = flag["id"].as_i64().unwrap();
    app.patch(&format!("/api/v1/flags/{peer_id}"), &regulator, json!({"status": "under_review"})).await.expect(200);
    let prescriber_id = prescriber[0]["id"].as_i64().unwrap();
    app.patch(&format!("/api/v1/flags/{prescriber_id}"), &regulator, json!({"status": "confirmed", "note": "checked the charts"})).await.expect(200);

    // The outlier's dispensings were keyed twice by mistake: all ten are reversed, and a
    // rescan of the same period no longer finds either flag.
    for id in &outlier_ids {
        app.post(&format!("/api/v1/stock-events/{id}/reversal"), &outlier.user, json!({"reason": "entered twice"})).await.expect(201);
    }
    let second = app.scan(&regulator, period.clone()).await;
    let second_id = second.body["scan"]["id"].as_i64().unwrap();
    assert_eq!(rule(&second.body, "peer_outlier")["no_longer_found"], 1);
    // The outlier has no dispensing left: eight pharmacies compared.
    assert_eq!(rule(&second.body, "peer_outlier")["evaluated"], 8);
    assert_eq!(second.body["scan"]["flags_no_longer_found"], 1, "a confirmed flag keeps its decision");
    let r = app.get(&format!("/api/v1/flags/{peer_id}"), &regulator).await.expect(200);
    assert_eq!(r.body["flag"]["status"], "no_longer_found");
    assert_eq!(r.body["flag"]["no_longer_found_scan_id"], second_id);
    let trail: Vec<(Value, Value)> = r.body["events"].as_array().unwrap().iter().map(|e| (e["action"].clone(), e["to_status"].clone())).collect();
    assert_eq!(
        trail,
        vec![(json!("raised"), json!("open")), (json!("status"), json!("under_review")), (json!("no_longer_found"), json!("no_longer_found"))]
    );
    let r = app.get(&format!("/api/v1/flags/{prescriber_id}"), &regulator).await.expect(200);
    assert_eq!(r.body["flag"]["status"], "confirmed");
    // A reviewer cannot mark a flag no_longer_found.
    let refused = app.patch(&format!("/api/v1/flags/{prescriber_id}"), &regulator, json!({"status": "no_longer_found"})).await.expect(422);
    assert_eq!(refused.code(), "invalid_transition");

    // The records are keyed again, correctly dated in the period: a third scan finds the
    // outlier again and the flag is open once more, its trail kept.
    let again_ids = dispense(&app, morphine, &outlier, "again", 48, 10).await;
    let third = app.scan(&regulator, period.clone()).await;
    assert_eq!(rule(&third.body, "peer_outlier")["no_longer_found"], 0);
    let r = app.get(&format!("/api/v1/flags/{peer_id}"), &regulator).await.expect(200);
    assert_eq!(r.body["flag"]["status"], "open");
    assert!(r.body["flag"]["no_longer_found_scan_id"].is_null());
    assert_eq!(r.body["flag"]["last_scan_id"], third.body["scan"]["id"]);
    let actions: Vec<&str> = r.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["raised", "status", "no_longer_found", "found_again"]);
    assert_eq!(flags(&app, &regulator, "peer_outlier").await.len(), 1, "found again, not raised twice");

    // Lost once more, and taken under review while lost: when a later scan finds it, the flag
    // keeps the reviewer's state and no longer names a scan that stopped finding it.
    for id in &again_ids {
        app.post(&format!("/api/v1/stock-events/{id}/reversal"), &outlier.user, json!({"reason": "entered twice"})).await.expect(201);
    }
    let fourth = app.scan(&regulator, period.clone()).await;
    let r = app.get(&format!("/api/v1/flags/{peer_id}"), &regulator).await.expect(200);
    assert_eq!(r.body["flag"]["no_longer_found_scan_id"], fourth.body["scan"]["id"]);
    app.patch(&format!("/api/v1/flags/{peer_id}"), &regulator, json!({"status": "under_review"})).await.expect(200);
    dispense(&app, morphine, &outlier, "third", 48, 10).await;
    app.scan(&regulator, period).await;
    let r = app.get(&format!("/api/v1/flags/{peer_id}"), &regulator).await.expect(200);
    assert_eq!(r.body["flag"]["status"], "under_review");
    assert!(r.body["flag"]["no_longer_found_scan_id"].is_null(), "{}", r.body["flag"]);
}
