//! Export authorizations and shipments (issue 13, point 6): the exporter's stock is debited
//! through the ledger, never below zero and never beyond the authorization; Form A, Form C
//! and the mass balance count the exports, the estimate's use does not.

use chrono::{Datelike, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use tarozi::domain::period::{Tz, today_in, zone};

use crate::helpers::{Facility, TestApp, TestUser, days_ago, figure};

/// Kazakhstan's days and years are Almaty's (UTC+5): near midnight the UTC date is another.
fn almaty() -> Tz {
    zone("Asia/Almaty").unwrap()
}

/// Today in Almaty.
fn almaty_today() -> chrono::NaiveDate {
    today_in(almaty(), Utc::now())
}

struct Setup {
    app: TestApp,
    regulator: TestUser,
    exporter: Facility,
    exporter_user: TestUser,
    product: i64,
    morphine: i64,
    year: i32,
}

/// A licensed importer in Almaty holding 50 000 morphine 10 mg tablets (500 g of base)
/// imported from India this year against a 1 000 g estimate.
async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let almaty = app.region("KZ", "Almaty").await;
    let exporter = app.facility(almaty, FacilityKind::Importer, "Importer").await;
    let exporter_user = app.facility_user(&exporter);
    let product = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let morphine = app.substance_id("morphine").await;
    let year = almaty_today().year();
    app.post(
        "/api/v1/estimates",
        &regulator,
        json!({"country_code": "KZ", "substance_id": morphine, "year": year, "quantity_g": 1000, "kind": "annual"}),
    )
    .await
    .expect(201);
    let ia = json!({
        "number": "IA-1", "importer_facility_id": exporter.id, "exporting_country": "IN", "product_id": product,
        "quantity_units": 50_000, "valid_from": format!("{year}-01-01"), "valid_until": format!("{year}-12-31")
    });
    let r = app.post("/api/v1/import-authorizations", &regulator, ia).await.expect(201);
    let id = r.body["import_authorization"]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/import-authorizations/{id}/receipts"),
        &exporter_user,
        json!({"quantity_units": 50_000, "received_at": Utc::now() - Duration::hours(2)}),
    )
    .await
    .expect(201);
    Setup { app, regulator, exporter, exporter_user, product, morphine, year }
}

fn export_authorization(s: &Setup, number: &str, importing_country: &str, units: i64) -> Value {
    json!({
        "number": number, "exporter_facility_id": s.exporter.id, "importing_country": importing_country,
        "import_certificate_number": format!("{importing_country}-IC-{number}"), "product_id": s.product,
        "quantity_units": units, "valid_from": format!("{}-01-01", s.year), "valid_until": format!("{}-12-31", s.year)
    })
}

fn refused_codes(app: &TestApp, facility_id: i64) -> Vec<String> {
    use tarozi::db::schema::refused_attempts as ra;
    ra::table.filter(ra::facility_id.eq(facility_id)).order(ra::id).select(ra::code).load(&mut app.conn()).unwrap()
}

fn audit_actions(app: &TestApp) -> Vec<String> {
    use tarozi::db::schema::audit_events as ae;
    ae::table.filter(ae::action.like("%export%")).order(ae::id).select(ae::action).load(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn exports_debit_the_exporter_within_the_authorization_and_the_stock_and_the_forms_count_them() {
    let s = setup().await;
    let app = &s.app;
    // 20 000 tablets × 10 mg = 200 g for Tajikistan.
    let r = app.post("/api/v1/export-authorizations", &s.regulator, export_authorization(&s, "EA-1", "TJ", 20_000)).await.expect(201);
    let ea = &r.body["export_authorization"];
    assert_eq!(ea["quantity_g"], json!(200));
    assert_eq!(ea["import_certificate_number"], "TJ-IC-EA-1");
    assert_eq!((ea["shipped_units"].as_i64(), ea["remaining_units"].as_i64()), (Some(0), Some(20_000)));
    let ea1 = ea["id"].as_i64().unwrap();
    let ship = format!("/api/v1/export-authorizations/{ea1}/shipments");
    let shipped_at = Utc::now() - Duration::hours(1);

    // 15 000 shipped, with an idempotency key: a retry replays, nothing is debited twice.
    let body = json!({"quantity_units": 15_000, "shipped_at": shipped_at});
    let key = [("Idempotency-Key", "export-ea-1-first")];
    let first = app.request_with(actix_web::http::Method::POST, &ship, Some(&s.exporter_user.token), Some(&body), &key).await.expect(201);
    assert_eq!(first.body["stock_event"]["kind"], "export");
    assert_eq!(first.body["stock_event"]["delta_units"], -15_000);
    // 50 000 − 15 000 = 35 000 left; 20 000 − 15 000 = 5 000 still authorized.
    assert_eq!(first.body["stock_event"]["balance_after_units"], 35_000);
    assert_eq!(first.body["export_authorization"]["remaining_units"], 5_000);
    let again = app.request_with(actix_web::http::Method::POST, &ship, Some(&s.exporter_user.token), Some(&body), &key).await.expect(201);
    assert_eq!(again.body["stock_event"]["id"], first.body["stock_event"]["id"]);
    assert_eq!(app.balance(&s.exporter_user, s.exporter.id, s.product).await, 35_000);

    // One unit beyond the authorization: refused and recorded.
    let over = app.post(&ship, &s.exporter_user, json!({"quantity_units": 5_001, "shipped_at": shipped_at})).await.expect(422);
    assert_eq!(over.code(), "authorization_exceeded");
    assert_eq!(over.body["remaining_units"], 5_000);
    assert!(over.body["refused_attempt_id"].as_i64().is_some(), "{}", over.text);

    // A second authorization (40 000 for Uzbekistan) cannot take more than the 35 000 held.
    let r = app.post("/api/v1/export-authorizations", &s.regulator, export_authorization(&s, "EA-2", "UZ", 40_000)).await.expect(201);
    let ea2 = r.body["export_authorization"]["id"].as_i64().unwrap();
    let short = app
        .post(
            &format!("/api/v1/export-authorizations/{ea2}/shipments"),
            &s.exporter_user,
            json!({"quantity_units": 36_000, "shipped_at": shipped_at}),
        )
        .await
        .expect(409);
    assert_eq!(short.code(), "insufficient_stock");
    // The rest of the first authorization goes: 35 000 − 5 000 = 30 000 held.
    app.post(&ship, &s.exporter_user, json!({"quantity_units": 5_000, "shipped_at": shipped_at})).await.expect(201);
    assert_eq!(app.balance(&s.exporter_user, s.exporter.id, s.product).await, 30_000);
    assert_eq!(refused_codes(app, s.exporter.id), vec!["export_authorization_exceeded", "insufficient_stock"]);
    assert_eq!(
        audit_actions(app),
        vec!["create_export_authorization", "record_export_shipment", "create_export_authorization", "record_export_shipment"]
    );

    // The regulator lists the country's, with what was shipped; an exporter only its own
    // (another Kazakh exporter's authorization is not among them).
    let second = app.facility(app.region("KZ", "Shymkent").await, FacilityKind::Wholesaler, "Second exporter").await;
    let mut body = export_authorization(&s, "EA-OTHER", "KG", 10);
    body["exporter_facility_id"] = json!(second.id);
    app.post("/api/v1/export-authorizations", &s.regulator, body).await.expect(201);
    let list = app.get("/api/v1/export-authorizations", &s.regulator).await.expect(200);
    assert_eq!(list.body["meta"]["total"], 3);
    let first_listed = &list.body["export_authorizations"][0];
    assert_eq!((first_listed["shipped_units"].as_i64(), first_listed["remaining_units"].as_i64()), (Some(20_000), Some(0)));
    let own = app.get("/api/v1/export-authorizations", &s.exporter_user).await.expect(200);
    assert_eq!(own.body["meta"]["total"], 2);
    assert!(own.body["export_authorizations"].as_array().unwrap().iter().all(|a| a["exporter_facility_id"] == s.exporter.id));
    assert_eq!(app.get("/api/v1/export-authorizations", &app.regulator("UZ")).await.expect(200).body["meta"]["total"], 0);

    // Form A of this quarter (Almaty's): 500 g imported from India, 200 g exported to Tajikistan.
    let quarter = (shipped_at.with_timezone(&almaty()).month() - 1) / 3 + 1;
    let a = app.get(&format!("/api/v1/reports/incb/form-a?year={}&quarter={quarter}", s.year), &s.regulator).await.expect(200);
    assert_eq!(
        a.body["lines"],
        json!([{"substance_id": s.morphine, "inn": "morphine", "exporting_country": "IN", "imported": {"kg": 0, "g": 500, "total_g": 500}}])
    );
    assert_eq!(
        a.body["exports"],
        json!([{"substance_id": s.morphine, "inn": "morphine", "importing_country": "TJ", "exported": {"kg": 0, "g": 200, "total_g": 200}}])
    );
    let csv = app.get(&format!("/api/v1/reports/incb/form-a?year={}&quarter={quarter}&format=csv", s.year), &s.regulator).await.expect(200);
    assert!(csv.text.contains(&format!("KZ,{},{quarter},morphine,,,,TJ,0,200", s.year)), "{}", csv.text);

    // Form C of the year: 500 g imported, 200 g exported, 30 000 × 10 mg = 300 g in stock.
    let c = app.get(&format!("/api/v1/reports/incb/form-c?year={}", s.year), &s.regulator).await.expect(200);
    let line = c.body["lines"].as_array().unwrap().iter().find(|l| l["inn"] == "morphine").unwrap().clone();
    assert_eq!(line["imported"]["total_g"], json!(500));
    assert_eq!(line["exported"]["total_g"], json!(200));
    // The year is not over: the stock is today's (`stocks_as_of`), not a 31 December one.
    assert_eq!(c.body["provisional"], true);
    assert!(line["stocks_31_december"].is_null());
    assert_eq!(line["stocks_as_of"]["total_g"], json!(300));
    assert_eq!(line["consumed"]["total_g"], json!(0));

    // Mass balance: 0 + 500 − 200 − 300 − 0 = 0 (before exports were counted: 0 + 500 − 0 −
    // 300 − 0 = 200 g of unexplained residue, a finding).
    let mb = app.get(&format!("/api/v1/analytics/mass-balance?year={}", s.year), &s.regulator).await.expect(200);
    let m = mb.body["substances"].as_array().unwrap().iter().find(|l| l["inn"] == "morphine").unwrap().clone();
    assert_eq!(figure(&m["wholesale"]["exports_g"]), "200");
    assert_eq!(figure(&m["wholesale"]["closing_stock_g"]), "300");
    assert_eq!(figure(&m["wholesale"]["residue_g"]), "0");
    assert_eq!(m["findings"], json!([]));

    // The estimate's use is unchanged: exports do not consume it (500 g received, nothing
    // supplied to retail).
    let e = app.get(&format!("/api/v1/analytics/estimates?year={}", s.year), &s.regulator).await.expect(200);
    let u = e.body["substances"].as_array().unwrap().iter().find(|l| l["inn"] == "morphine").unwrap().clone();
    assert_eq!((figure(&u["received_g"]), figure(&u["consumption_g"])), ("500".into(), "0".into()));
}

#[actix_web::test]
async fn shipments_outside_the_validity_by_another_facility_or_with_bad_fields_are_refused() {
    let s = setup().await;
    let app = &s.app;
    // Only the country's regulator issues them; fields are checked.
    app.post("/api/v1/export-authorizations", &s.exporter_user, export_authorization(&s, "EA-X", "TJ", 1)).await.expect(403);
    app.post("/api/v1/export-authorizations", &app.regulator("UZ"), export_authorization(&s, "EA-X", "TJ", 1)).await.expect(403);
    for not_another_country in ["KZ", "kz", "T1", "TJK"] {
        let bad = app.post("/api/v1/export-authorizations", &s.regulator, export_authorization(&s, "EA-X", not_another_country, 1)).await.expect(422);
        assert_eq!(bad.pointers(), vec!["/importing_country"], "{not_another_country}");
    }
    let mut body = export_authorization(&s, "EA-X", "TJ", 1);
    body["import_certificate_number"] = json!("");
    assert_eq!(app.post("/api/v1/export-authorizations", &s.regulator, body).await.expect(422).pointers(), vec!["/import_certificate_number"]);
    let pharmacy = app.facility(app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "P").await;
    let mut body = export_authorization(&s, "EA-X", "TJ", 1);
    body["exporter_facility_id"] = json!(pharmacy.id);
    assert_eq!(app.post("/api/v1/export-authorizations", &s.regulator, body).await.expect(422).pointers(), vec!["/exporter_facility_id"]);

    // Valid today only: a shipment dated two days ago is refused and recorded.
    let today = almaty_today();
    let mut body = export_authorization(&s, "EA-TODAY", "TJ", 100);
    body["valid_from"] = json!(today.to_string());
    body["valid_until"] = json!(today.to_string());
    let r = app.post("/api/v1/export-authorizations", &s.regulator, body).await.expect(201);
    let id = r.body["export_authorization"]["id"].as_i64().unwrap();
    let ship = format!("/api/v1/export-authorizations/{id}/shipments");
    let early = app.post(&ship, &s.exporter_user, json!({"quantity_units": 10, "shipped_at": days_ago(2)})).await.expect(422);
    assert_eq!(early.code(), "authorization_not_valid");
    // Another facility cannot ship against it; nothing is debited.
    let other = app.facility(app.region("KZ", "Shymkent").await, FacilityKind::Wholesaler, "Other").await;
    app.post(&ship, &app.facility_user(&other), json!({"quantity_units": 10, "shipped_at": Utc::now()})).await.expect(403);
    let bad = app.post(&ship, &s.exporter_user, json!({"quantity_units": 0, "shipped_at": Utc::now()})).await.expect(422);
    assert_eq!(bad.pointers(), vec!["/quantity_units"]);
    assert_eq!(refused_codes(app, s.exporter.id), vec!["export_authorization_not_valid"]);
    assert_eq!(app.balance(&s.exporter_user, s.exporter.id, s.product).await, 50_000);

    // A licence that ended yesterday stops a shipment against a valid authorization; refused
    // and recorded as the exporter's.
    let r = app.post("/api/v1/export-authorizations", &s.regulator, export_authorization(&s, "EA-LICENCE", "TJ", 100)).await.expect(201);
    let id = r.body["export_authorization"]["id"].as_i64().unwrap();
    let yesterday = today - Duration::days(1);
    app.patch(&format!("/api/v1/facilities/{}", s.exporter.id), &app.admin(), json!({"licence_valid_until": yesterday})).await.expect(200);
    let expired = app
        .post(&format!("/api/v1/export-authorizations/{id}/shipments"), &s.exporter_user, json!({"quantity_units": 10, "shipped_at": Utc::now()}))
        .await
        .expect(422);
    assert_eq!(expired.code(), "licence_expired");
    assert_eq!(refused_codes(app, s.exporter.id), vec!["export_authorization_not_valid", "export_licence_expired"]);
    assert_eq!(app.balance(&s.exporter_user, s.exporter.id, s.product).await, 50_000);
}

#[actix_web::test]
async fn an_export_shipment_is_judged_on_the_exporters_local_day() {
    use tarozi::domain::period::local_midnight;
    let s = setup().await;
    let app = &s.app;
    let almaty = almaty();
    // The authorization's last day is two local days ago.
    let last_day = almaty_today() - Duration::days(2);
    // Half an hour after the local midnight that ends it: in Almaty (UTC+5) the next day
    // already, in UTC still the last day — a UTC judgement would let it through to the stock.
    let shipped_at = local_midnight(almaty, last_day + Duration::days(1)) + Duration::minutes(30);
    assert_eq!(shipped_at.date_naive(), last_day);
    let mut body = export_authorization(&s, "EA-LATE", "TJ", 100);
    body["valid_from"] = json!(last_day - Duration::days(10));
    body["valid_until"] = json!(last_day);
    let r = app.post("/api/v1/export-authorizations", &s.regulator, body).await.expect(201);
    let id = r.body["export_authorization"]["id"].as_i64().unwrap();
    let late = app
        .post(&format!("/api/v1/export-authorizations/{id}/shipments"), &s.exporter_user, json!({"quantity_units": 10, "shipped_at": shipped_at}))
        .await
        .expect(422);
    assert_eq!(late.code(), "authorization_not_valid");
    assert_eq!(refused_codes(app, s.exporter.id), vec!["export_authorization_not_valid"]);
}
