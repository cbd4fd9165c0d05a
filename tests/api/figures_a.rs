//! Figures a ministry acts on (issue 13, points 1, 3, 4): patient-level MME by the labelled
//! strength, the INCB S-DDD basket, and estimate proposals by the INCB–WHO guide's methods.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;
use tarozi::domain::period::{local_midnight, today_in, zone};

use crate::analytics::{at, world};
use crate::helpers::{TestApp, days_ago, figure, test_settings};

fn record(id: &str, product: i64, units: i64, days: i64, at: chrono::DateTime<Utc>, patient: &str) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": at,
        "patient_id": patient, "patient_sex": "male", "patient_age": 52, "prescriber_id": "KZ-DOC-1",
        "prescription_number": format!("RX-{id}"), "days_supply": days, "indication": "chronic_non_cancer"
    })
}

#[actix_web::test]
async fn daily_mme_uses_the_labelled_strength_and_the_factor_in_force_on_the_dispensing_day() {
    let mut settings = test_settings();
    settings.backdate_days = 60;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin();
    let regulator = app.regulator("KZ");
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari 1").await;
    let user = app.facility_user(&pharmacy);
    // Morphine sulfate pentahydrate 10 mg holds 10 × 0.7521 = 7.521 mg of base; oxycodone
    // hydrochloride 5 mg holds 5 × 0.8964 = 4.482 mg.
    let morphine = app
        .labelled_product("morphine", "Morphine sulfate 10 mg tablet", "7.521", Some(("10", "morphine sulfate pentahydrate")), "tablet", "tablet")
        .await;
    let oxycodone = app
        .labelled_product("oxycodone", "Oxycodone hydrochloride 5 mg tablet", "4.482", Some(("5", "oxycodone hydrochloride")), "tablet", "tablet")
        .await;
    let unlabelled = app.labelled_product("morphine", "Morphine tablet, salt not stated", "10", None, "tablet", "tablet").await;
    for product in [morphine, oxycodone, unlabelled] {
        app.stock_up(&user, pharmacy.id, product, 1_000, days_ago(40)).await;
    }
    // Oxycodone's factor is revised to 2.0 from ten days ago; earlier dispensings keep 1.5.
    let oxy_substance = app.substance_id("oxycodone").await;
    let revised_from = (Utc::now() - Duration::days(10)).date_naive();
    app.patch(
        &format!("/api/v1/substances/{oxy_substance}"),
        &admin,
        json!({"me_factor": 2, "effective_from": revised_from, "source": "test: a revised factor"}),
    )
    .await
    .expect(200);

    let records = vec![
        record("m1", morphine, 100, 10, days_ago(12), "800101300001"),
        record("o1", oxycodone, 30, 7, days_ago(20), "800101300002"),
        record("o2", oxycodone, 30, 7, days_ago(5), "800101300003"),
        record("u1", unlabelled, 100, 10, days_ago(12), "800101300004"),
    ];
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user, json!({"records": records})).await.expect(200);
    assert_eq!(r.body["accepted"], 4, "{}", r.text);
    let list = app.get(&format!("/api/v1/facilities/{}/dispensings?per_page=10", pharmacy.id), &user).await.expect(200);
    let mme = |id: &str| list.body["dispensings"].as_array().unwrap().iter().find(|d| d["client_record_id"] == id).unwrap()["daily_mme"].clone();
    // 100 × 10 mg ÷ 10 days × 1.0 = 100 MME/day (by the base: 100 × 7.521 ÷ 10 = 75.21).
    assert_eq!(figure(&mme("m1")), "100");
    // 30 × 5 mg ÷ 7 days × 1.5 = 32.142857… (by the base: 28.8129).
    assert_eq!(figure(&mme("o1")), "32.1429");
    // The same after the revision, at its factor: 150 ÷ 7 × 2.0 = 42.857142…
    assert_eq!(figure(&mme("o2")), "42.8571");
    // No labelled strength, no figure.
    assert_eq!(mme("u1"), Value::Null);

    // At the default threshold of 90 MME/day the morphine patient is flagged (1 000 MME over
    // 10 days = 100 a day); the base method's 75.21 raised nothing.
    let scan = app.scan(&regulator, json!({"country_code": "KZ", "from": days_ago(30).date_naive(), "to": Utc::now().date_naive()})).await;
    assert_eq!(scan.status, 200, "{}", scan.text);
    let flags = app.get("/api/v1/flags?rule=high_daily_dose", &regulator).await.expect(200);
    let flags = flags.body["flags"].as_array().unwrap().clone();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(figure(&flags[0]["evidence"]["figures"]["mme_per_day"]), "100");
    assert_eq!(figure(&flags[0]["evidence"]["figures"]["mme_total"]), "1000");

    // The products whose dispensings get no MME are listed.
    let unknown = app.get("/api/v1/products?strength_unknown=true", &admin).await.expect(200);
    let ids: Vec<i64> = unknown.body["products"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![unlabelled]);
    let p = &unknown.body["products"][0];
    assert_eq!((p["strength_unknown"].clone(), p["strength_mg_per_unit"].clone()), (json!(true), Value::Null));
    let known = app.get("/api/v1/products?strength_unknown=false", &admin).await.expect(200);
    let m = known.body["products"].as_array().unwrap().iter().find(|p| p["id"] == morphine).unwrap().clone();
    assert_eq!((figure(&m["strength_mg_per_unit"]), figure(&m["base_mg_per_unit"])), ("10".to_owned(), "7.521".to_owned()));
    assert_eq!(m["strength_salt"], "morphine sulfate pentahydrate");
}

#[actix_web::test]
async fn a_labelled_strength_comes_with_its_salt_and_a_base_label_matches_the_base() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let morphine = app.substance_id("morphine").await;
    let body = |name: &str, strength: Value, salt: Value| {
        json!({"name": name, "substance_id": morphine, "base_mg_per_unit": "7.521", "dosage_form": "tablet", "unit": "tablet",
               "strength_mg_per_unit": strength, "strength_salt": salt})
    };
    let r = app.post("/api/v1/products", &admin, body("A", json!("10"), Value::Null)).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/strength_salt", "{}", r.text);
    let r = app.post("/api/v1/products", &admin, body("B", Value::Null, json!("morphine sulfate"))).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/strength_mg_per_unit", "{}", r.text);
    let r = app.post("/api/v1/products", &admin, body("C", json!("10"), json!("base"))).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/strength_mg_per_unit", "base 7.521 is not 10: {}", r.text);
    let r = app.post("/api/v1/products", &admin, body("D", json!("0"), json!("morphine sulfate"))).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/strength_mg_per_unit", "{}", r.text);
    let listed = app.get("/api/v1/products", &admin).await.expect(200);
    assert_eq!(listed.body["meta"]["total"], 0, "nothing half-written");
    app.post("/api/v1/products", &admin, body("E", json!("7.521"), json!("BASE"))).await.expect(201);
}

#[actix_web::test]
async fn the_sddd_total_counts_the_basket_only_and_names_a_basket_substance_without_an_sddd() {
    let w = world().await;
    let app = &w.app;
    let admin = app.admin();
    let substances = app.get("/api/v1/substances?per_page=1000", &admin).await.expect(200);
    let basket: Vec<String> = substances.body["substances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["in_sddd_basket"] == true)
        .map(|s| s["inn"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(basket.len(), 11, "{basket:?}");
    for inn in ["ketobemidone", "tilidine", "trimeperidine", "dextropropoxyphene"] {
        assert!(basket.contains(&inn.to_owned()), "{inn}");
    }
    assert!(!basket.contains(&"methadone".to_owned()));

    // Codeine phosphate hemihydrate 30 mg (30 × 0.7367 = 22.101 mg base): 5 000 tablets
    // reach the Osh pharmacy in June 2024: 110 505 mg of a basket substance without an S-DDD.
    let codeine = app
        .labelled_product("codeine", "Codeine phosphate 30 mg tablet", "22.101", Some(("30", "codeine phosphate hemihydrate")), "tablet", "tablet")
        .await;
    let osh_user = app.facility_user(&w.pharmacy_osh);
    app.stock_up(&osh_user, w.pharmacy_osh.id, codeine, 5_000, at(2024, 6, 1)).await;

    // Basket S-DDDs 2024: morphine 549 000 / 100 = 5 490, fentanyl 600 / 0.6 = 1 000;
    // 6 490 / 366 days / 1.5 million = 11.8215 — codeine left out, and said so.
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    let total = &r.body["total"];
    assert_eq!(figure(&total["sddd_per_million_per_day"]), "11.8215");
    assert_eq!(total["incomplete"], true);
    assert_eq!(total["missing_substances"], json!([{"inn": "codeine", "consumption_mg_base": 110505}]));
    assert_eq!((total["band"].clone(), total["band_provisional"].clone()), (json!("very_low"), json!(true)));
    let region = |id: i64| r.body["regions"].as_array().unwrap().iter().find(|x| x["region_id"] == id).unwrap().clone();
    assert_eq!(region(w.osh)["incomplete"], true);
    assert_eq!(region(w.bishkek)["incomplete"], false, "no codeine in Bishkek");
    let line = |body: &Value, inn: &str| body["substances"].as_array().unwrap().iter().find(|s| s["inn"] == inn).unwrap().clone();
    assert_eq!(line(&r.body, "codeine")["in_sddd_basket"], true);

    // The admin sets codeine's S-DDD (100 mg, test value) from 1 January 2024: 110 505 / 100 =
    // 1 105.05 more; (6 490 + 1 105.05) / 366 / 1.5 = 13.8343, complete.
    let id_of = |inn: &str| substances.body["substances"].as_array().unwrap().iter().find(|s| s["inn"] == inn).unwrap()["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/substances/{}", id_of("codeine")),
        &admin,
        json!({"sddd_mg": 100, "sddd_status": "test value", "effective_from": "2024-01-01", "source": "test"}),
    )
    .await
    .expect(200);
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    assert_eq!(figure(&r.body["total"]["sddd_per_million_per_day"]), "13.8343");
    assert_eq!((r.body["total"]["incomplete"].clone(), r.body["total"]["band_provisional"].clone()), (json!(false), json!(false)));
    assert_eq!(r.body["total"]["missing_substances"], json!([]));

    // Methadone (opioid agonist therapy, out of the basket) with an S-DDD of 25 mg: 5 000 mg
    // = 200 S-DDD, shown on its own line (200 / 366 / 1.5 = 0.3643) but not in the total.
    app.patch(
        &format!("/api/v1/substances/{}", id_of("methadone")),
        &admin,
        json!({"sddd_mg": 25, "sddd_status": "test value", "effective_from": "2024-01-01", "source": "test"}),
    )
    .await
    .expect(200);
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    assert_eq!(figure(&r.body["total"]["sddd_per_million_per_day"]), "13.8343");
    let methadone = line(&r.body, "methadone");
    assert_eq!((methadone["in_sddd_basket"].clone(), figure(&methadone["sddd_per_million_per_day"])), (json!(false), "0.3643".to_owned()));

    // Putting a substance in or out of the basket is the admin's, and audited.
    let r = app
        .patch(&format!("/api/v1/substances/{}", id_of("methadone")), &admin, json!({"in_sddd_basket": true, "source": "test: basket change"}))
        .await
        .expect(200);
    assert_eq!(r.body["substance"]["in_sddd_basket"], true);
    // Now counted: 13.8343 + 0.3643 (7 795.05 / 549 = 14.1986).
    let r = app.get("/api/v1/analytics/availability?year=2024", &w.ministry).await.expect(200);
    assert_eq!(figure(&r.body["total"]["sddd_per_million_per_day"]), "14.1986");
}

#[actix_web::test]
async fn an_estimate_proposal_uses_the_years_with_data_the_wholesale_stock_and_the_recorded_deaths() {
    let w = world().await;
    let app = &w.app;
    let morphine = app.substance_id("morphine").await;
    let proposal = |substance: i64, year: i32| format!("/api/v1/analytics/estimate-proposal?substance_id={substance}&year={year}");

    let r = app.get(&proposal(morphine, 2025), &w.ministry).await.expect(200);
    assert_eq!(r.body["methods"], json!(["consumption", "morbidity", "per_capita_reference"]));
    let c = &r.body["consumption_based"];
    // The first record is of 5 January 2024: 2022 and 2023 are no data, not zeros. One year,
    // 549 g, taken as it is: + 6 months' reserve 274.5 g − 451 g at the wholesaler (45 100
    // tablets × 10 mg; the pharmacies' 139 g are not a national reserve) = 372.5 g.
    // (Before: a trend through (0, 0, 549) projected 823.5 g, less all 590 g held = 645.25 g.)
    assert_eq!(c["history"], json!([{"year": 2024, "consumption_g": 549}]));
    assert_eq!(c["years_without_data"], json!([2022, 2023]));
    assert_eq!(c["first_record_on"], "2024-01-05");
    assert_eq!(c["trend_g_per_year"], Value::Null);
    assert_eq!(figure(&c["projected_consumption_g"]), "549");
    assert_eq!(figure(&c["reserve_stock_g"]), "274.5");
    assert_eq!(figure(&c["wholesale_stock_g"]), "451");
    assert_eq!(figure(&c["proposed_estimate_g"]), "372.5");
    // No deaths recorded: the morbidity method proposes nothing and says why.
    assert_eq!(r.body["missing"], json!(["deaths"]));
    assert_eq!(r.body["morbidity_based"]["proposed_estimate_g"], Value::Null);
    // The per-capita reference stays a comparison: 1 500 000 × 100 mg ME × 549 000 / 632 500.
    let reference = &r.body["per_capita_reference"];
    assert_eq!(figure(&reference["comparison_g"]), "130197.628");
    assert!(reference.get("proposed_estimate_g").is_none());

    // The ministry records 2024's deaths by cause.
    let deaths = json!({"causes": [{"cause": "cancer", "deaths": 3500}, {"cause": "road_injury", "deaths": 900}], "source": "National Statistical Committee, 2024 civil registration"});
    let put = app.put("/api/v1/countries/kg/deaths/2024", &w.ministry, deaths.clone()).await.expect(200);
    assert_eq!(put.body["deaths"]["causes"], deaths["causes"]);
    let got = app.get("/api/v1/countries/KG/deaths/2024", &w.ministry).await.expect(200);
    assert_eq!(got.body["deaths"]["source"], "National Statistical Committee, 2024 civil registration");
    assert_eq!(got.body["deaths"]["causes"], deaths["causes"]);

    // 3 500 cancer deaths × 0.8 × 90 days × 66.7 mg = 16 808 400 mg = 16.81 kg of morphine;
    // road injuries have no parameters and are left out, named.
    let r = app.get(&proposal(morphine, 2025), &w.ministry).await.expect(200);
    assert_eq!(r.body["missing"], json!([]));
    let m = &r.body["morbidity_based"];
    assert_eq!(m["method"], "morbidity");
    assert_eq!(m["deaths_year"], 2024);
    assert_eq!(figure(&m["causes"][0]["patient_days"]), "252000");
    assert_eq!(m["causes"][0]["share_needing_opioids"]["is_default"], true);
    assert_eq!(m["causes"][1]["patient_days"], Value::Null);
    assert!(m["notes"].as_array().unwrap().iter().any(|x| x.as_str().unwrap().starts_with("road_injury")));
    assert_eq!(figure(&m["daily_dose_mg"]["value"]), "66.7");
    assert_eq!(figure(&m["need_mg"]), "16808400");
    assert_eq!(figure(&m["proposed_estimate_g"]), "16808.4");

    // The ministry's own share (60 %) replaces the default: 3 500 × 0.6 × 90 × 66.7 = 12 606.3 g.
    let admin = app.admin();
    app.patch(
        "/api/v1/analytics/parameters/morbidity_cancer_share_needing_opioids",
        &admin,
        json!({"value": "0.6", "source": "Ministry of Health clinical protocol 2025"}),
    )
    .await
    .expect(200);
    let r = app.get(&proposal(morphine, 2025), &w.ministry).await.expect(200);
    assert_eq!(figure(&r.body["morbidity_based"]["proposed_estimate_g"]), "12606.3");
    assert_eq!(r.body["morbidity_based"]["causes"][0]["share_needing_opioids"]["is_default"], false);

    // A substance without a mean daily dose configured: no morbidity figure, and the note says which.
    let oxycodone = app.substance_id("oxycodone").await;
    let r = app.get(&proposal(oxycodone, 2025), &w.ministry).await.expect(200);
    assert_eq!(r.body["morbidity_based"]["proposed_estimate_g"], Value::Null);
    assert!(r.text.contains("morbidity_daily_dose_mg_oxycodone"));
}

#[actix_web::test]
async fn deaths_are_recorded_by_the_country_s_ministry_or_regulator_and_checked() {
    let app = TestApp::spawn().await;
    let ministry = app.ministry("KG");
    let ok = json!({"causes": [{"cause": "cancer", "deaths": 10}], "source": "registry"});
    let twice = json!({"causes": [{"cause": "cancer", "deaths": 10}, {"cause": "cancer", "deaths": 1}], "source": "registry"});
    let r = app.put("/api/v1/countries/KG/deaths/2024", &ministry, twice).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/causes/1/cause", "{}", r.text);
    let negative = json!({"causes": [{"cause": "hiv_aids", "deaths": -1}], "source": "registry"});
    let r = app.put("/api/v1/countries/KG/deaths/2024", &ministry, negative).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/causes/0/deaths", "{}", r.text);
    let bad_code = json!({"causes": [{"cause": "HIV/AIDS", "deaths": 1}], "source": "registry"});
    let r = app.put("/api/v1/countries/KG/deaths/2024", &ministry, bad_code).await.expect(422);
    assert_eq!(r.body["errors"][0]["pointer"], "/causes/0/cause", "{}", r.text);
    app.put("/api/v1/countries/KG/deaths/1800", &ministry, ok.clone()).await.expect(422);
    app.put("/api/v1/countries/KG/deaths/2024", &app.ministry("KZ"), ok.clone()).await.expect(403);
    app.put("/api/v1/countries/KG/deaths/2024", &app.admin(), ok.clone()).await.expect(403);
    app.get("/api/v1/countries/KG/deaths/2024", &app.ministry("KZ")).await.expect(403);
    let empty = app.get("/api/v1/countries/KG/deaths/2024", &ministry).await.expect(200);
    assert_eq!(empty.body["deaths"]["causes"], json!([]), "nothing half-written");
    app.put("/api/v1/countries/KG/deaths/2024", &app.regulator("KG"), ok.clone()).await.expect(200);
    // A second PUT replaces the year's causes.
    app.put("/api/v1/countries/KG/deaths/2024", &ministry, json!({"causes": [{"cause": "hiv_aids", "deaths": 4}], "source": "registry v2"}))
        .await
        .expect(200);
    let r = app.get("/api/v1/countries/KG/deaths/2024", &ministry).await.expect(200);
    assert_eq!(r.body["deaths"]["causes"], json!([{"cause": "hiv_aids", "deaths": 4}]));
    let audit = app.get("/api/v1/audit-events?action=put_country_deaths", &app.regulator("KG")).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 2, "{}", audit.text);
}

/// Migration `2026-12-05-000101` on data recorded before it: reverted (with every later one)
/// and run again on a database holding a morphine product described by its base only and a
/// dispensing of it.
#[actix_web::test]
async fn the_strength_migration_labels_existing_products_by_their_reference_salt_and_recomputes_their_daily_mme() {
    use diesel_migrations::MigrationHarness;

    let app = TestApp::spawn().await;
    let admin = app.admin();
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Dari 1").await;
    let user = app.facility_user(&pharmacy);
    // 7.521 mg of morphine base a tablet, recorded as base before labelled strengths existed.
    let morphine = app.product("morphine", "Morphine tablet 7.521 mg base", "7.521", "tablet", "tablet").await;
    // A substance with no reference salt: its product cannot be labelled.
    let r = app
        .post(
            "/api/v1/substances",
            &admin,
            json!({"inn": "testorphine", "convention": "none", "sddd_status": "n/a", "me_factor": 1, "source": "test"}),
        )
        .await
        .expect(201);
    let orphan_substance = r.body["substance"]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/v1/products",
            &admin,
            json!({"name": "Testorphine 5 mg", "substance_id": orphan_substance, "base_mg_per_unit": "5", "dosage_form": "tablet", "unit": "tablet", "strength_mg_per_unit": "5", "strength_salt": "base"}),
        )
        .await
        .expect(201);
    let orphan = r.body["product"]["id"].as_i64().unwrap();
    app.stock_up(&user, pharmacy.id, morphine, 200, days_ago(3)).await;
    // Morphine's factor becomes 2.0 from yesterday in Almaty; m2 is dispensed half an hour
    // after that local midnight — the day before in UTC.
    let almaty = zone("Asia/Almaty").unwrap();
    let yesterday = today_in(almaty, Utc::now()) - Duration::days(1);
    let morphine_substance = app.substance_id("morphine").await;
    app.patch(
        &format!("/api/v1/substances/{morphine_substance}"),
        &admin,
        json!({"me_factor": 2, "effective_from": yesterday, "source": "test: a revised factor"}),
    )
    .await
    .expect(200);
    let after_midnight = local_midnight(almaty, yesterday) + Duration::minutes(30);
    let records = [record("m1", morphine, 100, 10, days_ago(2), "800101300001"), record("m2", morphine, 10, 10, after_midnight, "800101300002")];
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user, json!({"records": records})).await.expect(200);
    assert_eq!(r.body["accepted"], 2, "{}", r.text);
    let (app, user, pharmacy) = (&app, &user, &pharmacy);
    let mme = |id: &'static str| async move {
        let list = app.get(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), user).await.expect(200);
        list.body["dispensings"].as_array().unwrap().iter().find(|d| d["client_record_id"] == id).unwrap()["daily_mme"].clone()
    };
    // As labelled base: 100 × 7.521 ÷ 10 × 1.0; 10 × 7.521 ÷ 10 × 2.0.
    assert_eq!(figure(&mme("m1").await), "75.21");
    assert_eq!(figure(&mme("m2").await), "15.042");

    let mut conn = app.conn();
    // Back to before the migration (those applied after it reverted first), then forward.
    loop {
        let reverted = conn.revert_last_migration(tarozi::db::MIGRATIONS).unwrap();
        if reverted.to_string().replace('-', "") == "20261205000101" {
            break;
        }
    }
    conn.run_pending_migrations(tarozi::db::MIGRATIONS).unwrap();

    // 7.521 ÷ 0.7521 = 10 mg of morphine sulfate pentahydrate; 100 × 10 ÷ 10 × 1.0 = 100.
    let products = app.get("/api/v1/products", &admin).await.expect(200);
    let product = |id: i64| products.body["products"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    assert_eq!(figure(&product(morphine)["strength_mg_per_unit"]), "10");
    assert_eq!(product(morphine)["strength_salt"], "morphine sulfate pentahydrate");
    assert_eq!(product(orphan)["strength_unknown"], true);
    assert_eq!(figure(&mme("m1").await), "100");
    // m2 keeps the factor in force on its local day, 2.0: 10 × 10 ÷ 10 × 2.0 = 20 (on the
    // UTC date the old factor would give 10).
    assert_eq!(figure(&mme("m2").await), "20");
}
