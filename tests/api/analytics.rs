//! Availability analytics and INCB reports against hand-computed figures.
//!
//! Kyrgyzstan, leap year 2024. Regions Bishkek (1 000 000) and Osh (500 000). A wholesaler in
//! Bishkek imports 100 000 morphine 10 mg tablets (the whole 1 000 g estimate) and receives
//! 10 000 fentanyl 0.1 mg ampoules and 2 000 methadone 5 mg tablets. It ships morphine to a
//! Bishkek pharmacy (36 600 on 1 Feb) and an Osh pharmacy (18 300 on 1 Mar), fentanyl to
//! Bishkek (6 000 in April) and methadone to Osh (1 000 in May). Consumption (supply to
//! retail) in 2024: morphine 549 000 mg, fentanyl 600 mg, methadone 5 000 mg (no S-DDD).

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, figure, test_settings};

pub fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

pub struct World {
    pub app: TestApp,
    pub ministry: TestUser,
    pub bishkek: i64,
    pub osh: i64,
    pub pharmacy_osh: Facility,
}

async fn transfer(
    app: &TestApp,
    (from, from_user): (&Facility, &TestUser),
    (to, to_user): (&Facility, &TestUser),
    product: i64,
    units: i64,
    day: chrono::DateTime<Utc>,
) {
    let r = app
        .post(
            "/api/v1/transfers",
            from_user,
            json!({"from_facility_id": from.id, "to_facility_id": to.id, "product_id": product, "quantity_units": units, "shipped_at": day}),
        )
        .await
        .expect(201);
    let id = r.body["transfer"]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/transfers/{id}/receipt"), to_user, json!({"quantity_units": units, "received_at": day + chrono::Duration::days(1)}))
        .await
        .expect(201);
}

async fn dispense(app: &TestApp, pharmacy: &Facility, user: &TestUser, records: Vec<(i64, i64, chrono::DateTime<Utc>, &str, i32)>) {
    let records: Vec<Value> = records
        .into_iter()
        .enumerate()
        .map(|(i, (product, units, day, sex, age))| {
            json!({
                "client_record_id": format!("{}-{i}-{}", pharmacy.id, day.timestamp()), "product_id": product, "quantity_units": units, "dispensed_at": day,
                "patient_id": format!("{}", 100000 + i), "patient_sex": sex, "patient_age": age, "prescriber_id": "KG-DOC-1",
                "prescription_number": format!("RX-{i}"), "days_supply": 30, "indication": "cancer"
            })
        })
        .collect();
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), user, json!({"records": records})).await.expect(200);
    assert_eq!(r.body["rejected"], 0, "{}", r.text);
}

pub async fn world() -> World {
    let mut settings = test_settings();
    settings.backdate_days = 2000;
    let app = TestApp::spawn_with(settings).await;
    let ministry = app.ministry("KG");
    let regulator = app.regulator("KG");
    let bishkek = app.region("KG", "Bishkek").await;
    let osh = app.region("KG", "Osh").await;
    for (region, total) in [(bishkek, 1_000_000), (osh, 500_000)] {
        app.put(&format!("/api/v1/regions/{region}/population"), &ministry, json!({"year": 2024, "total": total})).await.expect(200);
    }
    let wholesaler = app.facility(bishkek, FacilityKind::Wholesaler, "Wholesaler").await;
    let pharmacy_bishkek = app.facility(bishkek, FacilityKind::Pharmacy, "Bishkek pharmacy").await;
    let pharmacy_osh = app.facility(osh, FacilityKind::Pharmacy, "Osh pharmacy").await;
    let (w, pb, po) = (app.facility_user(&wholesaler), app.facility_user(&pharmacy_bishkek), app.facility_user(&pharmacy_osh));
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let fentanyl = app.product("fentanyl", "Fentanyl 0.1 mg ampoule", "0.1", "injection", "ampoule").await;
    let methadone = app.product("methadone", "Methadone 5 mg tablet", "5", "tablet", "tablet").await;

    let morphine_substance = app.substance_id("morphine").await;
    app.post(
        "/api/v1/estimates",
        &regulator,
        json!({"country_code": "KG", "substance_id": morphine_substance, "year": 2024, "quantity_g": 1000, "kind": "annual"}),
    )
    .await
    .expect(201);
    let ia = app
        .post(
            "/api/v1/import-authorizations",
            &regulator,
            json!({"number": "KG-IA-2024-1", "importer_facility_id": wholesaler.id, "exporting_country": "IN", "product_id": morphine, "quantity_units": 100000, "valid_from": "2024-01-01", "valid_until": "2024-12-31"}),
        )
        .await
        .expect(201);
    let ia_id = ia.body["import_authorization"]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/import-authorizations/{ia_id}/receipts"), &w, json!({"quantity_units": 100000, "received_at": at(2024, 1, 5)}))
        .await
        .expect(201);
    app.stock_up(&w, wholesaler.id, fentanyl, 10_000, at(2024, 1, 5)).await;
    app.stock_up(&w, wholesaler.id, methadone, 2_000, at(2024, 1, 5)).await;

    transfer(&app, (&wholesaler, &w), (&pharmacy_bishkek, &pb), morphine, 36_600, at(2024, 2, 1)).await;
    transfer(&app, (&wholesaler, &w), (&pharmacy_osh, &po), morphine, 18_300, at(2024, 3, 1)).await;
    transfer(&app, (&wholesaler, &w), (&pharmacy_bishkek, &pb), fentanyl, 6_000, at(2024, 4, 10)).await;
    transfer(&app, (&wholesaler, &w), (&pharmacy_osh, &po), methadone, 1_000, at(2024, 5, 10)).await;

    // Dispensed: Bishkek 30 000 morphine and 3 000 fentanyl; Osh 10 000 morphine, 500 methadone.
    dispense(
        &app,
        &pharmacy_bishkek,
        &pb,
        (0..10).map(|i| (morphine, 3_000, at(2024, 3 + i, 15), if i % 2 == 0 { "female" } else { "male" }, 65)).collect(),
    )
    .await;
    dispense(&app, &pharmacy_bishkek, &pb, vec![(fentanyl, 3_000, at(2024, 5, 2), "female", 40)]).await;
    dispense(&app, &pharmacy_osh, &po, vec![(morphine, 10_000, at(2024, 4, 1), "male", 80), (methadone, 500, at(2024, 6, 1), "female", 35)]).await;
    // An unexplained count shortfall at Osh: 1 000 tablets (10 g) missing on 1 Dec.
    app.post(
        &format!("/api/v1/facilities/{}/inventory-counts", pharmacy_osh.id),
        &po,
        json!({"product_id": morphine, "counted_units": 7_300, "counted_at": at(2024, 12, 1)}),
    )
    .await
    .expect(201);
    World { app, ministry, bishkek, osh, pharmacy_osh }
}

fn substance<'a>(report: &'a Value, inn: &str) -> &'a Value {
    report["substances"].as_array().unwrap().iter().find(|s| s["inn"] == inn).unwrap()
}

fn region(report: &Value, id: i64) -> Value {
    report["regions"].as_array().unwrap().iter().find(|r| r["region_id"] == id).unwrap().clone()
}

#[actix_web::test]
async fn availability_matches_hand_computed_figures_for_a_leap_year() {
    let w = world().await;
    let app = &w.app;
    let r = app.get("/api/v1/analytics/availability?year=2024&group_by=month", &w.ministry).await.expect(200);
    let b = &r.body;
    assert_eq!(b["period"], json!({"from": "2024-01-01", "to": "2024-12-31", "days": 366}));
    assert_eq!(b["population"], json!(1500000));
    assert_eq!(b["population_source"], "regions");
    // Consumption in mg of base, exactly.
    assert_eq!(figure(&substance(b, "morphine")["consumption_mg_base"]), "549000");
    assert_eq!(figure(&substance(b, "fentanyl")["consumption_mg_base"]), "600");
    assert_eq!(figure(&substance(b, "methadone")["consumption_mg_base"]), "5000");
    assert_eq!(figure(&substance(b, "morphine")["dispensed_mg_base"]), "400000");
    // S-DDD: (5 490 + 1 000) / 366 / 1.5 = 11.8215; methadone has no S-DDD and is listed.
    assert_eq!(figure(&b["total"]["sddd_per_million_per_day"]), "11.8215");
    // ME: (549 000 × 1 + 600 × 100 + 5 000 × 4.7) / 1 500 000 = 0.4217.
    assert_eq!(figure(&b["total"]["me_mg_per_capita"]), "0.4217");
    // Dispensed: (4 000 + 500) / 366 / 1.5 = 8.1967.
    assert_eq!(figure(&b["total"]["dispensed_sddd_per_million_per_day"]), "8.1967");
    assert_eq!(b["total"]["band"], "very_low");
    assert_eq!(
        b["total"]["missing"],
        json!([{"substance_id": substance(b, "methadone")["substance_id"], "inn": "methadone", "values": ["sddd_mg"]}])
    );
    assert_eq!(substance(b, "methadone")["missing"], json!(["sddd_mg"]));
    assert!(substance(b, "methadone")["sddd_per_million_per_day"].is_null());
    assert_eq!(figure(&substance(b, "methadone")["me_mg_per_capita"]), "0.0157");
    // Regions: Bishkek (3 660 + 1 000) / 366 / 1 = 12.7322; Osh 1 830 / 366 / 0.5 = 10.
    let bishkek = region(b, w.bishkek);
    assert_eq!(figure(&bishkek["sddd_per_million_per_day"]), "12.7322");
    assert_eq!(figure(&bishkek["me_mg_per_capita"]), "0.426");
    let osh = region(b, w.osh);
    assert_eq!(figure(&osh["sddd_per_million_per_day"]), "10");
    assert_eq!(figure(&osh["me_mg_per_capita"]), "0.413");
    // Months: February holds the Bishkek morphine, over its 29 days.
    let feb = b["groups"].as_array().unwrap().iter().find(|g| g["key"]["month"] == "2024-02").unwrap();
    assert_eq!(feb["days"], 29);
    assert_eq!(figure(&feb["consumption_mg_base"]), "366000");
    assert_eq!(b["groups"].as_array().unwrap().len(), 12);
}

#[actix_web::test]
async fn regions_add_up_to_the_country_and_a_partial_period_reads_raw_edges() {
    let w = world().await;
    let app = &w.app;
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    let total: f64 = r.body["regions"].as_array().unwrap().iter().map(|g| g["consumption_mg_base"].as_f64().unwrap()).sum();
    assert_eq!(total, r.body["total"]["consumption_mg_base"].as_f64().unwrap());
    let pop: f64 = r.body["regions"].as_array().unwrap().iter().map(|g| g["population"].as_f64().unwrap()).sum();
    assert_eq!(pop, r.body["population"].as_f64().unwrap());

    // 1 Feb – 15 Mar 2024: 44 days (February has 29), February from the aggregates and
    // 1–15 March from the raw rows: 549 000 mg of morphine → 5 490 / 44 / 1.5 = 83.1818.
    let p = app.get("/api/v1/analytics/availability?from=2024-02-01&to=2024-03-15", &w.ministry).await.expect(200);
    assert_eq!(p.body["period"]["days"], 44);
    assert_eq!(figure(&substance(&p.body, "morphine")["consumption_mg_base"]), "549000");
    assert_eq!(figure(&p.body["total"]["sddd_per_million_per_day"]), "83.1818");
    assert!(p.body["substances"].as_array().unwrap().iter().all(|s| s["inn"] != "fentanyl"));

    // One region alone.
    let o = app.get(&format!("/api/v1/analytics/availability?year=2024&region_id={}", w.osh), &w.ministry).await.expect(200);
    assert_eq!(o.body["population_source"], "region");
    assert_eq!(figure(&o.body["total"]["sddd_per_million_per_day"]), "10");

    // By sex: dispensed quantities only; the groups add up to the total.
    let s = app.get("/api/v1/analytics/availability?year=2024&group_by=sex", &w.ministry).await.expect(200);
    let by_sex: f64 = s.body["groups"].as_array().unwrap().iter().map(|g| g["dispensed_mg_base"].as_f64().unwrap()).sum();
    assert_eq!(by_sex, s.body["total"]["dispensed_mg_base"].as_f64().unwrap());
    assert!(s.body["groups"][0]["consumption_mg_base"].is_null());
}

#[actix_web::test]
async fn a_country_without_region_figures_falls_back_to_its_own_population() {
    let mut settings = test_settings();
    settings.backdate_days = 2000;
    let app = TestApp::spawn_with(settings).await;
    let ministry = app.ministry("UZ");
    app.region("UZ", "Tashkent").await;
    let r = app.get("/api/v1/analytics/availability?year=2024", &ministry).await.expect(200);
    assert_eq!(r.body["population"], json!(38236704));
    assert_eq!(r.body["population_source"], "country");
    app.get("/api/v1/analytics/availability?year=2024&country=KZ", &ministry).await.expect(403);
    app.get("/api/v1/analytics/availability?year=2024", &app.regional()).await.expect(403);
    let bad = app.get("/api/v1/analytics/availability?year=2024&from=2024-01-01", &ministry).await.expect(422);
    assert_eq!(bad.pointers(), vec!["year"]);
    let bad = app.get("/api/v1/analytics/availability?group_by=planet&year=2024", &ministry).await.expect(422);
    assert_eq!(bad.pointers(), vec!["group_by"]);
}

#[actix_web::test]
async fn estimates_mass_balance_and_incb_forms_agree_with_the_ledger() {
    let w = world().await;
    let app = &w.app;
    let e = app.get("/api/v1/analytics/estimates?year=2024", &w.ministry).await.expect(200);
    let m = substance(&e.body, "morphine");
    assert_eq!(
        (figure(&m["estimate_g"]), figure(&m["authorized_g"]), figure(&m["received_g"]), figure(&m["consumption_g"])),
        ("1000".into(), "1000".into(), "1000".into(), "549".into())
    );
    assert_eq!((figure(&m["utilization_pct"]), figure(&m["imports_pct"])), ("54.9".into(), "100".into()));
    assert!(substance(&e.body, "fentanyl")["estimate_g"].is_null());

    let mb = app.get("/api/v1/analytics/mass-balance?year=2024", &w.ministry).await.expect(200);
    let m = substance(&mb.body, "morphine");
    // Wholesale: 0 + 1 000 − 0 − 451 − 549 = 0.
    assert_eq!(figure(&m["wholesale"]["closing_stock_g"]), "451");
    assert_eq!(figure(&m["wholesale"]["supplied_to_retail_g"]), "549");
    assert_eq!(figure(&m["wholesale"]["residue_g"]), "0");
    // Retail: 549 − 139 − 400 = 10 g: the count shortfall, 1.8 % of supply (> 1 %).
    assert_eq!(figure(&m["retail"]["stock_change_g"]), "139");
    assert_eq!(figure(&m["retail"]["dispensed_g"]), "400");
    assert_eq!(figure(&m["retail"]["residue_g"]), "10");
    assert_eq!(m["findings"].as_array().unwrap().len(), 1);
    // Fentanyl reached the wholesaler by a plain receipt, not an import: 1 g appears from
    // outside the chain, a wholesale residue of −1 g.
    let f = substance(&mb.body, "fentanyl");
    assert_eq!(figure(&f["wholesale"]["residue_g"]), "-1");
    assert!(f["findings"][0].as_str().unwrap().starts_with("wholesale residue"));

    let c = app.get("/api/v1/reports/incb/form-c?year=2024", &w.ministry).await.expect(200);
    let line = |inn: &str| c.body["lines"].as_array().unwrap().iter().find(|l| l["inn"] == inn).unwrap().clone();
    assert_eq!(line("morphine")["consumed"], json!({"kg": 0, "g": 549, "total_g": 549}));
    assert_eq!(line("morphine")["stocks_31_december"], json!({"kg": 0, "g": 451, "total_g": 451}));
    assert_eq!(line("morphine")["imported"], json!({"kg": 1, "g": 0, "total_g": 1000}));
    assert_eq!(figure(&line("fentanyl")["consumed"]["g"]), "0.6");
    assert_eq!(figure(&line("fentanyl")["stocks_31_december"]["g"]), "0.4");
    let csv = app.get("/api/v1/reports/incb/form-c?year=2024&format=csv", &w.ministry).await.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.text.starts_with("country,year,substance,consumed_kg,consumed_g"));
    assert!(csv.text.contains("KG,2024,morphine,0,549,0,451,1,0"), "{}", csv.text);

    let a = app.get("/api/v1/reports/incb/form-a?year=2024&quarter=1", &w.ministry).await.expect(200);
    assert_eq!(
        a.body["lines"],
        json!([{"substance_id": m["substance_id"], "inn": "morphine", "exporting_country": "IN", "imported": {"kg": 1, "g": 0, "total_g": 1000}}])
    );
    let a2 = app.get("/api/v1/reports/incb/form-a?year=2024&quarter=2&format=csv", &w.ministry).await.expect(200);
    assert_eq!(a2.text.lines().count(), 1, "no imports in the second quarter: a header only");
    app.get("/api/v1/reports/incb/form-a?year=2024", &w.ministry).await.expect(422);
    app.get("/api/v1/reports/incb/form-c?year=2024&format=xml", &w.ministry).await.expect(422);
    app.get("/api/v1/reports/incb/form-c?year=2024", &app.facility_user(&w.pharmacy_osh)).await.expect(403);
}

#[actix_web::test]
async fn transfers_between_wholesale_facilities_are_not_supply_to_retail() {
    let mut settings = test_settings();
    settings.backdate_days = 2000;
    let app = TestApp::spawn_with(settings).await;
    let ministry = app.ministry("KG");
    let region = app.region("KG", "Bishkek").await;
    let importer = app.facility(region, FacilityKind::Importer, "Importer").await;
    let wholesaler = app.facility(region, FacilityKind::Wholesaler, "Wholesaler").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Pharmacy").await;
    let (iu, wu, pu) = (app.facility_user(&importer), app.facility_user(&wholesaler), app.facility_user(&pharmacy));
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    // 100 g reach the importer by a plain receipt (from outside the chain).
    app.stock_up(&iu, importer.id, morphine, 10_000, at(2024, 1, 5)).await;
    // 60 g move within the wholesale level, 20 g go on to the pharmacy.
    transfer(&app, (&importer, &iu), (&wholesaler, &wu), morphine, 6_000, at(2024, 2, 1)).await;
    transfer(&app, (&wholesaler, &wu), (&pharmacy, &pu), morphine, 2_000, at(2024, 3, 1)).await;
    // The pharmacy records a theft of 1 g and destroys 0.5 g: flows the ledger explains.
    for (kind, units) in [("theft", 100), ("destruction", 50)] {
        app.post(
            &format!("/api/v1/facilities/{}/stock-events", pharmacy.id),
            &pu,
            json!({"kind": kind, "product_id": morphine, "quantity_units": units, "occurred_at": at(2024, 6, 1), "reason": "counted and witnessed"}),
        )
        .await
        .expect(201);
    }
    // The pharmacy sends 1 g back to the wholesaler.
    transfer(&app, (&pharmacy, &pu), (&wholesaler, &wu), morphine, 100, at(2024, 7, 1)).await;
    // 5 g are still on the road from the importer to the wholesaler when the year ends.
    app.post(
        "/api/v1/transfers",
        &iu,
        json!({"from_facility_id": importer.id, "to_facility_id": wholesaler.id, "product_id": morphine, "quantity_units": 500, "shipped_at": at(2024, 12, 20)}),
    )
    .await
    .expect(201);

    let mb = app.get("/api/v1/analytics/mass-balance?year=2024", &ministry).await.expect(200);
    let m = substance(&mb.body, "morphine");
    // Out of the wholesale level: the 20 g delivered less the 1 g sent back, and the 5 g in
    // transit; not the 60 g the wholesaler received from the importer.
    assert_eq!(figure(&m["wholesale"]["supplied_to_retail_g"]), "24");
    assert_eq!(figure(&m["wholesale"]["closing_stock_g"]), "76");
    // 0 + 0 − 0 − 76 − 24 = −100: the receipt from outside the chain, and nothing more.
    assert_eq!(figure(&m["wholesale"]["residue_g"]), "-100");
    assert_eq!(figure(&m["in_transit_or_short_g"]), "5");
    assert_eq!(figure(&m["retail"]["supplied_g"]), "19");
    // 19 − 17.5 (stock change) − 0 − 0.5 − 1 = 0.
    assert_eq!(figure(&m["retail"]["stock_change_g"]), "17.5");
    assert_eq!(figure(&m["retail"]["lost_or_stolen_g"]), "1");
    assert_eq!(figure(&m["retail"]["destroyed_g"]), "0.5");
    assert_eq!(figure(&m["retail"]["residue_g"]), "0");
    assert_eq!(m["findings"].as_array().unwrap().len(), 1, "only the wholesale receipt from outside the chain: {}", m["findings"]);
}

#[actix_web::test]
async fn an_estimate_proposal_shows_every_method_and_every_input() {
    let w = world().await;
    let app = &w.app;
    let substance_id = app.substance_id("morphine").await;
    let r = app.get(&format!("/api/v1/analytics/estimate-proposal?substance_id={substance_id}&year=2025"), &w.ministry).await.expect(200);
    let c = &r.body["consumption_based"];
    // 2022 and 2023 precede the first record (2024-01-05): no data. 2024 alone: 549 g, no
    // trend; reserve 6 months = 274.5 g; stock at the wholesale level 451 g → 372.5 g.
    let years: Vec<i64> = c["history"].as_array().unwrap().iter().map(|h| h["year"].as_i64().unwrap()).collect();
    assert_eq!(years, vec![2024]);
    assert_eq!(c["trend_g_per_year"], Value::Null);
    assert_eq!(figure(&c["projected_consumption_g"]), "549");
    assert_eq!(figure(&c["reserve_stock_g"]), "274.5");
    assert_eq!(figure(&c["wholesale_stock_g"]), "451");
    assert_eq!(figure(&c["proposed_estimate_g"]), "372.5");
    // Reference: 1 500 000 people × 100 mg ME × morphine's share (549 000 / 632 500) ÷ 1.
    let reference = &r.body["per_capita_reference"];
    assert_eq!(figure(&reference["population"]), "1500000");
    assert_eq!(figure(&reference["substance_share_of_me"]), "0.867984");
    assert_eq!(figure(&reference["comparison_g"]), "130197.628");
    let custom = app
        .get(
            &format!("/api/v1/analytics/estimate-proposal?substance_id={substance_id}&year=2025&reference_me_mg_per_capita=50&reserve_months=0"),
            &w.ministry,
        )
        .await
        .expect(200);
    assert_eq!(figure(&custom.body["per_capita_reference"]["comparison_g"]), "65098.814");
    assert_eq!(custom.body["per_capita_reference"]["reference_source"], "given in the request");
    // 549 + 0 − 451 = 98 g.
    assert_eq!(figure(&custom.body["consumption_based"]["proposed_estimate_g"]), "98");
}

#[actix_web::test]
async fn the_regional_view_gives_country_aggregates_only() {
    let w = world().await;
    let app = &w.app;
    let regional = app.regional();
    let r = app.get("/api/v1/analytics/regional?year=2024", &regional).await.expect(200);
    let countries = r.body["countries"].as_array().unwrap();
    assert_eq!(countries.len(), 5);
    let kg = countries.iter().find(|c| c["country"] == "KG").unwrap();
    assert_eq!(figure(&kg["sddd_per_million_per_day"]), "11.8215");
    assert_eq!(kg["dispensing_facilities"], 2);
    assert!(!r.text.contains("Bishkek pharmacy"), "no facility-level rows");
    app.get("/api/v1/analytics/stock-outs", &regional).await.expect(403);
    app.get("/api/v1/analytics/regional?year=2024", &app.facility_user(&w.pharmacy_osh)).await.expect(403);
}

#[actix_web::test]
async fn adequacy_bands_are_data_an_admin_can_replace() {
    let w = world().await;
    let app = &w.app;
    let admin = app.admin();
    let bands = app.get("/api/v1/analytics/adequacy-bands", &w.ministry).await.expect(200);
    assert_eq!(bands.body["bands"][0]["code"], "very_low");
    assert!(bands.body["bands"][0]["source"].as_str().unwrap().contains("INCB"));
    let gap = json!({"bands": [
        {"code": "very_low", "label": "very low", "min_sddd": 0, "max_sddd": 10, "is_finding": true, "source": "national policy 2026"},
        {"code": "adequate", "label": "adequate", "min_sddd": 12, "max_sddd": null, "is_finding": false, "source": "national policy 2026"}
    ]});
    let r = app.put("/api/v1/analytics/adequacy-bands", &admin, gap).await.expect(422);
    assert_eq!(r.pointers(), vec!["/bands/1/min_sddd"]);
    let tiled = json!({"bands": [
        {"code": "very_low", "label": "very low", "min_sddd": 0, "max_sddd": 10, "is_finding": true, "source": "national policy 2026"},
        {"code": "adequate", "label": "adequate", "min_sddd": 10, "max_sddd": null, "is_finding": false, "source": "national policy 2026"}
    ]});
    app.put("/api/v1/analytics/adequacy-bands", &w.ministry, tiled.clone()).await.expect(403);
    app.put("/api/v1/analytics/adequacy-bands", &admin, tiled).await.expect(200);
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    assert_eq!(r.body["total"]["band"], "adequate");
    assert_eq!(region(&r.body, w.osh)["band"], "adequate", "10 is the band's inclusive lower bound");

    let p = app
        .patch("/api/v1/analytics/parameters/reserve_stock_months", &admin, json!({"value": 3, "source": "national supply lead time 2026"}))
        .await
        .expect(200);
    let reserve = p.body["parameters"].as_array().unwrap().iter().find(|x| x["code"] == "reserve_stock_months").unwrap().clone();
    assert_eq!(reserve["value"], json!(3));
    app.patch("/api/v1/analytics/parameters/nothing", &admin, json!({"value": 3, "source": "x-source"})).await.expect(404);
}

#[actix_web::test]
async fn an_availability_report_is_served_again_only_until_a_write_commits() {
    let w = world().await;
    let app = &w.app;
    let path = "/api/v1/analytics/availability?year=2024";
    let first = app.get(path, &w.ministry).await.expect(200);
    assert_eq!(figure(&substance(&first.body, "morphine")["dispensed_mg_base"]), "400000");
    assert_eq!(app.get(path, &w.ministry).await.expect(200).body, first.body, "the same answer while nothing is written");
    // Osh dispenses 100 more tablets of 10 mg: 400 000 + 1 000 mg.
    let products = app.get("/api/v1/products", &w.ministry).await.expect(200);
    let morphine =
        products.body["products"].as_array().unwrap().iter().find(|p| p["name"] == "Morphine 10 mg tablet").unwrap()["id"].as_i64().unwrap();
    let po = app.facility_user(&w.pharmacy_osh);
    dispense(app, &w.pharmacy_osh, &po, vec![(morphine, 100, at(2024, 6, 20), "male", 50)]).await;
    let after = app.get(path, &w.ministry).await.expect(200);
    assert_eq!(figure(&substance(&after.body, "morphine")["dispensed_mg_base"]), "401000");
    // A population change is a write too: Osh 500 000 -> 1 000 000 halves its rate, 10 -> 5.
    app.put(&format!("/api/v1/regions/{}/population", w.osh), &w.ministry, json!({"year": 2024, "total": 1_000_000})).await.expect(200);
    let again = app.get(path, &w.ministry).await.expect(200);
    assert_eq!(figure(&region(&again.body, w.osh)["sddd_per_million_per_day"]), "5");
}
