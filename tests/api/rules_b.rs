//! Planted cases and near misses of diversion rules (rules_b).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;
use tarozi::domain::period::Month;

use crate::helpers::{Facility, TestApp, TestUser, days_ago, test_settings};

/// A country's regulator, a morphine 10 mg tablet, and pharmacies that dispense it.
struct World {
    app: TestApp,
    regulator: TestUser,
    morphine: i64,
}

/// A dispensing pharmacy and its reporting user.
struct Pharmacy {
    facility: Facility,
    user: TestUser,
}

impl World {
    async fn new(backdate_days: i64) -> World {
        let mut settings = test_settings();
        settings.backdate_days = backdate_days;
        let app = TestApp::spawn_with(settings).await;
        let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
        let regulator = app.regulator("KZ");
        World { app, regulator, morphine }
    }

    /// A pharmacy of `region` holding `units` of each of `products` since `since`.
    async fn pharmacy(&self, region: i64, name: &str, products: &[i64], units: i64, since: DateTime<Utc>) -> Pharmacy {
        let facility = self.app.facility(region, FacilityKind::Pharmacy, name).await;
        let user = self.app.facility_user(&facility);
        for product in products {
            self.app.stock_up(&user, facility.id, *product, units, since).await;
        }
        Pharmacy { facility, user }
    }

    /// Records `records` at `pharmacy`; every one must be accepted. Returns their ids.
    async fn dispense(&self, pharmacy: &Pharmacy, records: Vec<Value>) -> Vec<i64> {
        let n = records.len();
        let r = self
            .app
            .post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.facility.id), &pharmacy.user, json!({ "records": records }))
            .await
            .expect(200);
        assert_eq!(r.body["accepted"], n, "{}", r.text);
        r.body["results"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
    }

    /// The pseudonym (hex) the server gave the patient of one of `pharmacy`'s records.
    async fn pseudonym(&self, pharmacy: &Pharmacy, client_record_id: &str) -> String {
        let r = self.app.get(&format!("/api/v1/facilities/{}/dispensings?per_page=200", pharmacy.facility.id), &pharmacy.user).await.expect(200);
        r.body["dispensings"].as_array().unwrap().iter().find(|d| d["client_record_id"] == client_record_id).unwrap()["patient_pseudonym"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Scans KZ over `[from, to]`; no rule may fail.
    async fn scan(&self, from: NaiveDate, to: NaiveDate) {
        let r = self.app.scan(&self.regulator, json!({"country_code": "KZ", "from": from, "to": to})).await;
        let failed: Vec<&Value> = r.body["scan"]["rules"].as_array().unwrap().iter().filter(|x| x.get("error").is_some()).collect();
        assert!(failed.is_empty(), "{failed:?}");
    }

    /// The active flags of `rule`.
    async fn flags(&self, rule: &str) -> Vec<Value> {
        self.app.get(&format!("/api/v1/flags?rule={rule}"), &self.regulator).await.expect(200).body["flags"].as_array().unwrap().clone()
    }
}

/// One dispensing record.
#[allow(clippy::too_many_arguments)]
fn record(id: &str, product: i64, units: i64, at: DateTime<Utc>, patient: &str, prescriber: &str, days_supply: i64, indication: &str) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": at,
        "patient_id": patient, "patient_sex": "male", "patient_age": 52, "prescriber_id": prescriber,
        "prescription_number": format!("RX-{id}"), "days_supply": days_supply, "indication": indication
    })
}

/// A chronic non-cancer record of `units` morphine tablets for ten days.
fn simple(id: &str, product: i64, units: i64, at: DateTime<Utc>, patient: &str) -> Value {
    record(id, product, units, at, patient, "KZ-DOC-1", 10, "chronic_non_cancer")
}

/// Today in Kazakhstan (the tests' country): its days end at local midnight.
fn today() -> NaiveDate {
    tarozi::domain::period::today_in(almaty(), Utc::now())
}

fn almaty() -> tarozi::domain::period::Tz {
    tarozi::domain::period::zone("Asia/Almaty").unwrap()
}

fn number(v: &Value) -> f64 {
    v.as_f64().or_else(|| v.to_string().parse().ok()).unwrap_or(f64::NAN)
}

#[actix_web::test]
async fn a_month_above_three_times_the_median_of_its_history_is_a_dispensing_spike() {
    let w = World::new(400).await;
    let region = w.app.region("KZ", "Almaty").await;
    let this_month = Month::of(today());
    let months: Vec<Month> = (1..=4)
        .scan(this_month.first_day(), |day, _| {
            let m = Month::of(*day - Duration::days(1));
            *day = m.first_day();
            Some(m)
        })
        .collect();
    let (spike_month, history) = (months[0], &months[1..]);
    let on_tenth = |m: Month| m.bounds(almaty()).0 + Duration::days(9) + Duration::hours(10);
    let since = months[3].bounds(almaty()).0 - Duration::days(5);
    let spiking = w.pharmacy(region, "Spiking", &[w.morphine], 1000, since).await;
    let steady = w.pharmacy(region, "Steady", &[w.morphine], 1000, since).await;
    for (p, last_units) in [(&spiking, 31), (&steady, 30)] {
        let mut records: Vec<Value> = history.iter().enumerate().map(|(i, m)| simple(&format!("h{i}"), w.morphine, 10, on_tenth(*m), "1")).collect();
        records.push(simple("spike", w.morphine, last_units, on_tenth(spike_month), "1"));
        w.dispense(p, records).await;
    }

    w.scan(spike_month.first_day(), spike_month.last_day()).await;
    let flags = w.flags("dispensing_spike").await;
    assert_eq!(flags.len(), 1, "300 mg against a median of 100 is no spike: {flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "facility");
    assert_eq!(flag["subject_id"], spiking.facility.id.to_string());
    assert_eq!(flag["severity"], "medium");
    assert_eq!(flag["period_from"], json!(spike_month.first_day()));
    assert_eq!(flag["period_to"], json!(spike_month.last_day()));
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["base_mg"].to_string(), "310");
    assert_eq!(figures["baseline_median_base_mg"].to_string(), "100");
    assert_eq!(figures["baseline"].as_array().unwrap().len(), 3);
    assert_eq!(figures["ratio"].to_string(), "3.1");
    assert_eq!(flag["evidence"]["records"]["dispensings"].as_array().unwrap().len(), 1);
    assert_eq!(number(&flag["evidence"]["thresholds"]["factor"]), 3.0);
}

#[actix_web::test]
async fn a_pharmacy_far_above_its_regional_peers_per_patient_is_a_peer_outlier() {
    let w = World::new(30).await;
    let since = days_ago(20);
    let at = days_ago(3);
    // Two regions of six pharmacies; ten patients each, the same dose for every patient of a
    // pharmacy: five peers at 10 to 14 tablets and one at 25 (flagged) or 20 (not).
    let mut outliers = Vec::new();
    for (region_name, last) in [("Almaty", 25), ("Astana", 20)] {
        let region = w.app.region("KZ", region_name).await;
        for (i, units) in [10, 11, 12, 13, 14, last].into_iter().enumerate() {
            let p = w.pharmacy(region, &format!("{region_name} {i}"), &[w.morphine], 1000, since).await;
            let records = (0..10).map(|k| simple(&format!("r{k}"), w.morphine, units, at, &format!("{region_name}{i}{k}"))).collect();
            w.dispense(&p, records).await;
            if i == 5 {
                outliers.push(p);
            }
        }
    }

    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("peer_outlier").await;
    assert_eq!(flags.len(), 1, "200 mg per patient is within z 3.5: {flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_id"], outliers[0].facility.id.to_string());
    assert_eq!(flag["facility_id"], outliers[0].facility.id);
    assert_eq!(flag["severity"], "medium");
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["mme_mg_per_patient"].to_string(), "250");
    assert_eq!(figures["patients"], 10);
    assert_eq!(number(&figures["group_median_mme_mg_per_patient"]), 125.0);
    assert_eq!(figures["peer_count"], 5);
    // ln 250 against a median of ln 120 and ln 130 and a MAD of 0.121: z ≈ 3.87.
    let z = number(&figures["z"]);
    assert!((3.8..3.95).contains(&z), "{z}");
}

#[actix_web::test]
async fn a_prescriber_far_above_the_others_is_an_outlier_and_four_records_are_too_few_to_compare() {
    let w = World::new(30).await;
    let region = w.app.region("KZ", "Almaty").await;
    let p = w.pharmacy(region, "Central", &[w.morphine], 5000, days_ago(20)).await;
    let at = days_ago(2);
    let mut records = Vec::new();
    // Nine ordinary prescribers with five dispensings of 11 to 19 tablets; one with five of
    // 100; one with only four of 100 (not compared).
    let mut prescribers: Vec<(String, i64, usize)> = (1..=9).map(|k| (format!("KZ-DOC-{k}"), 10 + k, 5)).collect();
    prescribers.push(("KZ-DOC-BIG".into(), 100, 5));
    prescribers.push(("KZ-DOC-FEW".into(), 100, 4));
    for (doctor, units, n) in &prescribers {
        for k in 0..*n {
            let id = format!("{doctor}-{k}");
            records.push(record(&id, w.morphine, *units, at, &id, doctor, 10, "acute"));
        }
    }
    let ids = w.dispense(&p, records).await;

    w.scan(days_ago(5).date_naive(), today()).await;
    let flags = w.flags("prescriber_outlier").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "prescriber");
    assert_eq!(flag["subject_id"], "KZ-DOC-BIG");
    assert_eq!(flag["severity"], "high");
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["mme_mg"].to_string(), "5000");
    assert_eq!(figures["records"], 5);
    assert_eq!(figures["group_size"], 10);
    assert_eq!(number(&figures["group_median_mme_mg"]), 775.0);
    assert!(number(&figures["z"]) > 5.0);
    let mut listed: Vec<i64> = flag["evidence"]["records"]["dispensings"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    listed.sort_unstable();
    assert_eq!(listed, ids[45..50].to_vec());
}

#[actix_web::test]
async fn four_prescribers_and_four_pharmacies_in_ninety_days_is_an_episode_and_three_prescribers_are_not() {
    let w = World::new(30).await;
    let region = w.app.region("KZ", "Almaty").await;
    let mut pharmacies = Vec::new();
    for i in 0..4 {
        pharmacies.push(w.pharmacy(region, &format!("Pharmacy {i}"), &[w.morphine], 100, days_ago(25)).await);
    }
    // The shopper sees four doctors; the other patient four pharmacies but three doctors.
    for (i, p) in pharmacies.iter().enumerate() {
        let at = days_ago(20 - 4 * i as i64);
        let shopper = record("shopper", w.morphine, 10, at, "770101300111", &format!("KZ-DOC-{i}"), 7, "acute");
        let near = record("near", w.morphine, 10, at, "880202400222", &format!("KZ-DOC-{}", i.min(2)), 7, "acute");
        w.dispense(p, vec![shopper, near]).await;
    }
    let shopper = w.pseudonym(&pharmacies[0], "shopper").await;

    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("multiple_provider_episode").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "patient");
    assert_eq!(flag["subject_id"], shopper);
    assert_eq!(flag["severity"], "medium");
    let evidence = &flag["evidence"];
    assert_eq!(evidence["figures"]["prescriber_count"], 4);
    assert_eq!(evidence["figures"]["facility_count"], 4);
    assert_eq!(evidence["records"]["dispensings"].as_array().unwrap().len(), 4);
    let mut facilities: Vec<i64> = pharmacies.iter().map(|p| p.facility.id).collect();
    facilities.sort_unstable();
    assert_eq!(evidence["records"]["facilities"], json!(facilities));
}

#[actix_web::test]
async fn ninety_one_mme_a_day_is_a_high_dose_eighty_nine_is_not_and_cancer_and_palliative_care_never_are() {
    let w = World::new(30).await;
    let region = w.app.region("KZ", "Almaty").await;
    // Sufentanil has no ME factor: its dispensings have no daily MME.
    let sufentanil = w.app.product("sufentanil", "Sufentanil 50 mcg/ml ampoule", "0.05", "injection", "ampoule").await;
    let p = w.pharmacy(region, "Central", &[w.morphine, sufentanil], 5000, days_ago(20)).await;
    let at = days_ago(12);
    // 10 mg tablets over ten days: one tablet is 1 MME a day.
    let records = vec![
        simple("over", w.morphine, 91, at, "1001"),
        simple("under", w.morphine, 89, at, "1002"),
        record("cancer", w.morphine, 300, at, "1003", "KZ-DOC-1", 10, "cancer"),
        simple("mixed", w.morphine, 300, at, "1004"),
        record("mixed-palliative", w.morphine, 1, at + Duration::days(1), "1004", "KZ-DOC-1", 10, "palliative"),
        simple("over-unknown", sufentanil, 5, at, "1001"),
        // Entered for the wrong patient and reversed: it never counts.
        simple("under-reversed", w.morphine, 10, at + Duration::hours(1), "1002"),
    ];
    let ids = w.dispense(&p, records).await;
    w.app.post(&format!("/api/v1/stock-events/{}/reversal", ids[6]), &p.user, json!({"reason": "entered for the wrong patient"})).await.expect(201);
    let over = w.pseudonym(&p, "over").await;

    w.scan(days_ago(15).date_naive(), today()).await;
    let flags = w.flags("high_daily_dose").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "patient");
    assert_eq!(flag["subject_id"], over);
    assert_eq!(flag["severity"], "medium");
    let evidence = &flag["evidence"];
    assert_eq!(evidence["figures"]["mme_per_day"].to_string(), "91");
    assert_eq!(evidence["figures"]["mme_total"].to_string(), "910");
    assert_eq!(evidence["figures"]["days"].to_string(), "10");
    assert_eq!(evidence["figures"]["records"], 1);
    assert_eq!(evidence["figures"]["records_without_mme"], 1);
    assert_eq!(evidence["records"]["dispensings"], json!([ids[0]]));
    assert_eq!(evidence["records"]["dispensings_without_mme"], json!([ids[5]]));
}

#[actix_web::test]
async fn a_refill_with_half_the_last_supply_left_overlaps_a_quarter_left_does_not_and_a_patch_with_a_tablet_is_one_fill() {
    let w = World::new(30).await;
    let region = w.app.region("KZ", "Almaty").await;
    let patch = w.app.product("fentanyl", "Fentanyl 25 mcg/h patch", "4.125", "transdermal_patch", "patch").await;
    let p = w.pharmacy(region, "Central", &[w.morphine, patch], 500, days_ago(25)).await;
    let t0 = days_ago(20);
    let twenty_days = |id: &str, at: DateTime<Utc>, patient: &str| record(id, w.morphine, 20, at, patient, "KZ-DOC-1", 20, "chronic_non_cancer");
    let eight_days = |id: &str, at: DateTime<Utc>, patient: &str| record(id, w.morphine, 8, at, patient, "KZ-DOC-1", 8, "chronic_non_cancer");
    let ids = w
        .dispense(
            &p,
            vec![
                // Half of twenty days left: an overlap (the first is before the period).
                twenty_days("early-1", t0, "2001"),
                twenty_days("early-2", t0 + Duration::days(10), "2001"),
                // Exactly a quarter left: not more than 25 %.
                twenty_days("quarter-1", t0, "2002"),
                twenty_days("quarter-2", t0 + Duration::days(15), "2002"),
                // A patch and a breakthrough tablet handed over together.
                record("patch", patch, 10, t0 + Duration::days(10), "2003", "KZ-DOC-1", 30, "chronic_non_cancer"),
                twenty_days("tablet", t0 + Duration::days(10), "2003"),
                // Both inside the period: three quarters of twenty days left, an overlap.
                twenty_days("within-1", t0 + Duration::days(9), "2004"),
                twenty_days("within-2", t0 + Duration::days(14), "2004"),
                // Both inside the period: exactly a quarter of eight days left.
                eight_days("within-quarter-1", t0 + Duration::days(9), "2005"),
                eight_days("within-quarter-2", t0 + Duration::days(15), "2005"),
                // Both inside the period: a millisecond more than a quarter left, an overlap.
                eight_days("within-over-1", t0 + Duration::days(9), "2006"),
                eight_days("within-over-2", t0 + Duration::days(15) - Duration::milliseconds(1), "2006"),
            ],
        )
        .await;
    let early = w.pseudonym(&p, "early-1").await;
    let within = w.pseudonym(&p, "within-1").await;
    let just_over = w.pseudonym(&p, "within-over-1").await;

    w.scan(days_ago(12).date_naive(), today()).await;
    let mut flags = w.flags("overlapping_prescriptions").await;
    assert_eq!(flags.len(), 3, "{flags:?}");
    let at = flags.iter().position(|f| f["subject_id"] == just_over).expect("a millisecond over a quarter is flagged");
    let over = flags.remove(at);
    assert_eq!(over["evidence"]["figures"]["pairs"][0]["next_id"], ids[11]);
    let at = flags.iter().position(|f| f["subject_id"] == within).expect("the overlap inside the period is flagged");
    let inside = flags.remove(at);
    let pair = &inside["evidence"]["figures"]["pairs"][0];
    assert_eq!(pair["previous_id"], ids[6]);
    assert_eq!(pair["next_id"], ids[7]);
    assert_eq!(pair["remaining_fraction"].to_string(), "0.75");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "patient");
    assert_eq!(flag["subject_id"], early);
    assert_eq!(flag["severity"], "medium");
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["overlaps"], 1);
    let pair = &figures["pairs"][0];
    assert_eq!(pair["previous_id"], ids[0]);
    assert_eq!(pair["next_id"], ids[1]);
    assert_eq!(pair["remaining_fraction"].to_string(), "0.5");
    assert_eq!(flag["evidence"]["records"]["dispensings"], json!([ids[0], ids[1]]));
}

#[actix_web::test]
async fn methadone_dispensed_without_an_estimate_is_unexpected_and_morphine_with_one_is_not() {
    let w = World::new(30).await;
    let region = w.app.region("KZ", "Almaty").await;
    let methadone = w.app.product("methadone", "Methadone hydrochloride 10 mg tablet", "8.9", "tablet", "tablet").await;
    let tramadol = w.app.product("tramadol", "Tramadol 50 mg capsule", "43.92", "capsule", "capsule").await;
    let p = w.pharmacy(region, "Central", &[w.morphine, methadone, tramadol], 100, days_ago(20)).await;
    let day = days_ago(2).date_naive();
    let at = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let year = chrono::Datelike::year(&day);
    let morphine_substance = w.app.substance_id("morphine").await;
    w.app
        .post(
            "/api/v1/estimates",
            &w.app.ministry("KZ"),
            json!({"country_code": "KZ", "substance_id": morphine_substance, "year": year, "quantity_g": "1000", "kind": "annual"}),
        )
        .await
        .expect(201);
    let ids = w
        .dispense(
            &p,
            vec![
                simple("m1", methadone, 3, at, "3001"),
                simple("m2", methadone, 2, at + Duration::minutes(5), "3002"),
                simple("morphine", w.morphine, 10, at, "3003"),
                // Tramadol is not internationally controlled.
                simple("tramadol", tramadol, 10, at, "3004"),
            ],
        )
        .await;

    // A scan of that one day.
    w.scan(day, day).await;
    let flags = w.flags("unexpected_substance").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag["subject_type"], "substance");
    assert_eq!(flag["subject_id"], w.app.substance_id("methadone").await.to_string());
    assert_eq!(flag["severity"], "medium");
    assert_eq!(flag["period_from"], json!(day));
    assert_eq!(flag["period_to"], json!(day));
    let evidence = &flag["evidence"];
    assert_eq!(evidence["figures"]["records"], 2);
    assert_eq!(evidence["figures"]["year"], year);
    assert_eq!(evidence["figures"]["convention"], "1961");
    assert_eq!(evidence["figures"]["base_mg"].to_string(), "44.5");
    assert_eq!(evidence["figures"]["facilities"][0]["units"], 5);
    assert_eq!(evidence["records"]["facilities"], json!([p.facility.id]));
    assert_eq!(evidence["records"]["dispensings"], json!([ids[0], ids[1]]));
}
