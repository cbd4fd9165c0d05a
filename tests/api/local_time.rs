//! Days and months in the country's own time (issue 13, point 5).
//!
//! Kyrgyzstan keeps Asia/Bishkek, UTC+6 all year. 31 March 2025 23:59 local is 17:59 UTC;
//! 1 April 2025 02:00 local is 31 March 20:00 UTC. In UTC both fall on 31 March; in Bishkek
//! the second belongs to April. Each test puts records on both sides of that local midnight
//! (18:00 UTC) and reads them back through the API.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, test_settings};

/// 31 March 2025, 23:59 in Bishkek.
fn last_minute_of_march() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 31, 17, 59, 0).unwrap()
}

/// 1 April 2025, 02:00 in Bishkek.
fn two_am_first_of_april() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 31, 20, 0, 0).unwrap()
}

struct Kg {
    app: TestApp,
    ministry: TestUser,
    regulator: TestUser,
    pharmacy: Facility,
    user: TestUser,
    morphine: i64,
}

/// A Kyrgyz test instance that takes records dated years back, with the region of Bishkek.
async fn bishkek() -> (TestApp, i64) {
    let mut settings = test_settings();
    settings.backdate_days = 2000;
    let app = TestApp::spawn_with(settings).await;
    let region = app.region("KG", "Bishkek").await;
    (app, region)
}

async fn kyrgyzstan() -> Kg {
    let (app, region) = bishkek().await;
    let ministry = app.ministry("KG");
    let regulator = app.regulator("KG");
    app.put(&format!("/api/v1/regions/{region}/population"), &ministry, json!({"year": 2025, "total": 1_000_000})).await.expect(200);
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Bishkek pharmacy").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&user, pharmacy.id, morphine, 1000, Utc.with_ymd_and_hms(2025, 3, 1, 6, 0, 0).unwrap()).await;
    Kg { app, ministry, regulator, pharmacy, user, morphine }
}

fn dispensing(id: &str, product: i64, units: i64, at: DateTime<Utc>, patient: &str, indication: &str) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": at,
        "patient_id": patient, "patient_sex": "female", "patient_age": 58, "prescriber_id": "KG-DOC-1",
        "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": indication
    })
}

impl Kg {
    /// 3 tablets × 10 mg = 30 mg at 23:59 on 31 March (local) and 5 × 10 mg = 50 mg at 02:00
    /// on 1 April (local, still 31 March in UTC), both accepted.
    async fn dispense_across_midnight(&self) {
        let statuses = self
            .dispense(vec![
                dispensing("march", self.morphine, 3, last_minute_of_march(), "1", "cancer"),
                dispensing("april", self.morphine, 5, two_am_first_of_april(), "2", "cancer"),
            ])
            .await;
        assert!(statuses.iter().all(|(s, _)| s == "accepted"), "{statuses:?}");
    }

    /// Sends the records; returns each one's status and id.
    async fn dispense(&self, records: Vec<Value>) -> Vec<(String, Option<i64>)> {
        let r =
            self.app.post(&format!("/api/v1/facilities/{}/dispensings", self.pharmacy.id), &self.user, json!({"records": records})).await.expect(200);
        r.body["results"].as_array().unwrap().iter().map(|x| (x["status"].as_str().unwrap().to_owned(), x["id"].as_i64())).collect()
    }

    fn close(&self, month: &str, body: Value) -> (String, Value) {
        (format!("/api/v1/facilities/{}/reporting-periods/{month}/close", self.pharmacy.id), body)
    }
}

/// `{"2025-03": mg, ...}` of the month groups' dispensed base mg.
fn dispensed_by_month(report: &Value) -> Vec<(String, String)> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"]["month"].as_str().unwrap().to_owned(), g["dispensed_mg_base"].to_string().trim_matches('"').to_owned()))
        .collect()
}

#[actix_web::test]
async fn a_dispensing_at_two_in_the_morning_of_the_first_of_april_in_bishkek_counts_in_april() {
    let kg = kyrgyzstan().await;
    kg.dispense_across_midnight().await;

    // Whole months, read from the monthly aggregates: March 30 mg, April 50 mg (in UTC months
    // March would hold 80 mg and April none).
    let r = kg.app.get("/api/v1/analytics/availability?year=2025&group_by=month", &kg.ministry).await.expect(200);
    let months = dispensed_by_month(&r.body);
    assert_eq!(months[2], ("2025-03".to_owned(), "30".to_owned()), "{months:?}");
    assert_eq!(months[3], ("2025-04".to_owned(), "50".to_owned()), "{months:?}");
    assert_eq!(r.body["total"]["dispensed_mg_base"], json!(80));

    // Partial months at both ends, read from the raw rows: 15 March to 15 April cuts the same way.
    let r = kg.app.get("/api/v1/analytics/availability?from=2025-03-15&to=2025-04-15&group_by=month", &kg.ministry).await.expect(200);
    assert_eq!(dispensed_by_month(&r.body), vec![("2025-03".to_owned(), "30".to_owned()), ("2025-04".to_owned(), "50".to_owned())]);

    // One local day: 1 April holds the 02:00 dispensing only (50 mg); 31 March the 23:59 one.
    let day = |d: &str| format!("/api/v1/analytics/availability?from={d}&to={d}");
    let r = kg.app.get(&day("2025-04-01"), &kg.ministry).await.expect(200);
    assert_eq!(r.body["total"]["dispensed_mg_base"], json!(50), "{}", r.text);
    let r = kg.app.get(&day("2025-03-31"), &kg.ministry).await.expect(200);
    assert_eq!(r.body["total"]["dispensed_mg_base"], json!(30), "{}", r.text);

    // The consumption report's months agree: 0.03 g in March, 0.05 g in April.
    let r = kg.app.get("/api/v1/analytics/consumption?year=2025", &kg.ministry).await.expect(200);
    let grams: Vec<(String, String)> = r.body["months"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["dispensed_g"] != json!(0))
        .map(|m| (m["month"].as_str().unwrap().to_owned(), m["dispensed_g"].to_string()))
        .collect();
    assert_eq!(grams, vec![("2025-03".to_owned(), "0.03".to_owned()), ("2025-04".to_owned(), "0.05".to_owned())]);
}

#[actix_web::test]
async fn reporting_periods_close_on_local_months_and_refuse_records_of_their_own_local_days_only() {
    let kg = kyrgyzstan().await;
    kg.dispense_across_midnight().await;

    // March (local) holds one dispensing: the 23:59 one. In UTC months it would hold both.
    let (path, body) = kg.close("2025-03", json!({}));
    let r = kg.app.post(&path, &kg.user, body).await.expect(201);
    assert_eq!(r.body["reporting_period"]["dispensing_count"], 1, "{}", r.text);

    // March is closed: a record at 23:30 on 31 March (17:30 UTC) is refused, one at 00:30 on
    // 1 April (18:30 UTC, the same UTC day) is April's and accepted.
    let late = kg
        .dispense(vec![
            dispensing("late-march", kg.morphine, 1, last_minute_of_march() - chrono::Duration::minutes(29), "3", "cancer"),
            dispensing("early-april", kg.morphine, 1, last_minute_of_march() + chrono::Duration::minutes(31), "4", "cancer"),
        ])
        .await;
    assert_eq!(late.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), vec!["rejected", "accepted"]);

    // April (local) holds the 02:00 dispensing and the 00:30 one.
    let (path, body) = kg.close("2025-04", json!({}));
    let r = kg.app.post(&path, &kg.user, body).await.expect(201);
    assert_eq!(r.body["reporting_period"]["dispensing_count"], 2, "{}", r.text);

    // The standings of the country's March name the pharmacy closed.
    let r = kg.app.get("/api/v1/reporting-periods?country=KG&period=2025-03", &kg.regulator).await.expect(200);
    assert!(r.text.contains("\"closed\""), "{}", r.text);
}

#[actix_web::test]
async fn a_daily_scan_covers_the_local_day_from_local_midnight_to_local_midnight() {
    let kg = kyrgyzstan().await;
    // Two chronic non-cancer patients on 300 tablets of 10 mg over 10 days: 300 MME a day
    // each (base mg × 1.0; far above the default 90 whatever the strength convention).
    let ids = kg
        .dispense(vec![
            dispensing("march", kg.morphine, 300, last_minute_of_march(), "1", "chronic_non_cancer"),
            dispensing("april", kg.morphine, 300, two_am_first_of_april(), "2", "chronic_non_cancer"),
        ])
        .await;
    assert!(ids.iter().all(|(s, _)| s == "accepted"), "{ids:?}");
    let (march_id, april_id) = (ids[0].1.unwrap(), ids[1].1.unwrap());

    // The scan of 1 April (local) sees the 02:00 dispensing only.
    let scan = kg.app.scan(&kg.regulator, json!({"country_code": "KG", "from": "2025-04-01", "to": "2025-04-01"})).await;
    assert_eq!(scan.body["scan"]["status"], "completed", "{}", scan.text);
    let flags = kg.app.get("/api/v1/flags?rule=high_daily_dose", &kg.regulator).await.expect(200);
    let flagged: Vec<Value> = flags.body["flags"].as_array().unwrap().iter().map(|f| f["evidence"]["records"]["dispensings"].clone()).collect();
    assert_eq!(flagged, vec![json!([april_id])], "{}", flags.text);

    // The scan of 31 March (local) adds the 23:59 one, and not the 02:00 one again.
    kg.app.scan(&kg.regulator, json!({"country_code": "KG", "from": "2025-03-31", "to": "2025-03-31"})).await;
    let flags = kg.app.get("/api/v1/flags?rule=high_daily_dose", &kg.regulator).await.expect(200);
    let mut flagged: Vec<Value> = flags.body["flags"].as_array().unwrap().iter().map(|f| f["evidence"]["records"]["dispensings"].clone()).collect();
    flagged.sort_by_key(|v| v[0].as_i64());
    let mut expected = vec![json!([march_id]), json!([april_id])];
    expected.sort_by_key(|v| v[0].as_i64());
    assert_eq!(flagged, expected, "{}", flags.text);
}

#[actix_web::test]
async fn every_country_keeps_its_zone_and_postgresql_knows_it() {
    let app = TestApp::spawn().await;
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        time_zone: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        known: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.code, c.time_zone, EXISTS (SELECT 1 FROM pg_timezone_names n WHERE n.name = c.time_zone) AS known FROM countries c ORDER BY c.code",
    )
    .load(&mut app.conn())
    .unwrap();
    let zones: Vec<(String, String, bool)> = rows.into_iter().map(|r| (r.code, r.time_zone, r.known)).collect();
    let listed = app.get("/api/v1/countries", &app.admin()).await.expect(200);
    let kg = listed.body["countries"].as_array().unwrap().iter().find(|c| c["code"] == "KG").unwrap().clone();
    assert_eq!(kg["time_zone"], "Asia/Bishkek");
    assert_eq!(
        zones,
        [("KG", "Asia/Bishkek"), ("KZ", "Asia/Almaty"), ("TJ", "Asia/Dushanbe"), ("TM", "Asia/Ashgabat"), ("UZ", "Asia/Tashkent")]
            .map(|(c, z)| (c.to_owned(), z.to_owned(), true))
            .to_vec()
    );
}

#[actix_web::test]
async fn an_estimate_proposal_dates_the_first_record_on_the_local_day() {
    let (app, region) = bishkek().await;
    let ministry = app.ministry("KG");
    let wholesaler = app.facility(region, FacilityKind::Wholesaler, "Bishkek wholesaler").await;
    let user = app.facility_user(&wholesaler);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    // 1 January 2024, 01:00 in Bishkek: still 31 December 2023 in UTC.
    app.stock_up(&user, wholesaler.id, morphine, 1000, Utc.with_ymd_and_hms(2023, 12, 31, 19, 0, 0).unwrap()).await;
    let substance = app.substance_id("morphine").await;
    let r = app.get(&format!("/api/v1/analytics/estimate-proposal?substance_id={substance}&year=2025"), &ministry).await.expect(200);
    let c = &r.body["consumption_based"];
    // Kyrgyzstan's records begin in 2024: 2022 and 2023 have no data (by the UTC date, 2023
    // would count as a year of data from its last day).
    assert_eq!(c["first_record_on"], "2024-01-01");
    assert_eq!(c["years_without_data"], json!([2022, 2023]));
    assert_eq!(c["history"].as_array().unwrap().iter().map(|h| h["year"].clone()).collect::<Vec<_>>(), vec![json!(2024)]);
}

#[actix_web::test]
async fn form_a_counts_an_import_received_at_two_in_the_morning_of_the_first_of_april_in_the_second_quarter() {
    let (app, region) = bishkek().await;
    let regulator = app.regulator("KG");
    let importer = app.facility(region, FacilityKind::Importer, "Bishkek importer").await;
    let user = app.facility_user(&importer);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let substance = app.substance_id("morphine").await;
    let estimate = json!({"country_code": "KG", "substance_id": substance, "year": 2025, "quantity_g": 1000, "kind": "annual"});
    app.post("/api/v1/estimates", &regulator, estimate).await.expect(201);
    let ia = json!({
        "number": "KG-IA-1", "importer_facility_id": importer.id, "exporting_country": "IN", "product_id": morphine,
        "quantity_units": 20_000, "valid_from": "2025-01-01", "valid_until": "2025-12-31"
    });
    let r = app.post("/api/v1/import-authorizations", &regulator, ia).await.expect(201);
    let id = r.body["import_authorization"]["id"].as_i64().unwrap();
    let receipts = format!("/api/v1/import-authorizations/{id}/receipts");
    // 10 000 tablets (100 g) in the last minute of March, 5 000 (50 g) at 02:00 on 1 April:
    // both on 31 March in UTC, a quarter apart in Bishkek.
    app.post(&receipts, &user, json!({"quantity_units": 10_000, "received_at": last_minute_of_march()})).await.expect(201);
    app.post(&receipts, &user, json!({"quantity_units": 5_000, "received_at": two_am_first_of_april()})).await.expect(201);
    let imported = |body: &Value| body["lines"].as_array().unwrap().iter().map(|l| l["imported"]["total_g"].clone()).collect::<Vec<_>>();
    let q1 = app.get("/api/v1/reports/incb/form-a?year=2025&quarter=1", &regulator).await.expect(200);
    assert_eq!(imported(&q1.body), vec![json!(100)]);
    let q2 = app.get("/api/v1/reports/incb/form-a?year=2025&quarter=2", &regulator).await.expect(200);
    assert_eq!(imported(&q2.body), vec![json!(50)]);
}
