//! The pharmacy's page: stock, the month's dispensings uploaded as CSV (answered per row
//! like the batch API, replayed on a double submission), and a month closed with a zero
//! report.

use chrono::{Datelike, Utc};
use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{TestApp, WebSession, csrf_of, days_ago, field_of};

const HEADER: &str = "client_record_id,product_id,quantity_units,dispensed_at,patient_id,patient_sex,patient_age,prescriber_id,prescription_number,days_supply,indication";

#[actix_web::test]
async fn a_csv_upload_is_answered_per_row_and_a_month_is_closed_with_a_zero_report() {
    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Apteka 7").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&user, pharmacy.id, morphine, 100, days_ago(2)).await;
    let s = WebSession::signed_in(&app, &user).await;
    let page = s.get("/dashboard/facility").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("Morphine 10 mg tablet (#{morphine})</td><td class=\"num\">100</td>")), "{}", page.text);

    let template = s.get("/dashboard/facility/dispensings-template.csv").await;
    assert_eq!(template.text.lines().next(), Some(HEADER));

    // Three rows: one good (10 tablets), one with a word for a number, one unknown product.
    let at = (Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let csv = format!(
        "{HEADER}\nR1,{morphine},10,{at},KZ-1,female,64,DOC-1,RX-1,10,cancer\nR2,{morphine},ten,{at},KZ-2,male,50,DOC-1,RX-2,10,acute\nR3,999999,5,{at},KZ-3,male,50,DOC-1,RX-3,10,acute\n"
    );
    let token = csrf_of(&page.text);
    let idem = field_of(&page.text, "idem");
    let r = s.post_multipart("/dashboard/facility/dispensings/upload", &[("csrf", &token), ("idem", &idem)], csv.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("1 accepted, 0 already recorded, 2 rejected."), "{}", r.text);
    // Row numbers count the header as row 1; each problem names its column.
    assert!(r.text.contains("<td class=\"num\">3</td><td>R2</td><td class=\"record-rejected\">rejected</td>"), "{}", r.text);
    assert!(r.text.contains("quantity_units:"), "{}", r.text);
    assert!(r.text.contains("<td class=\"num\">2</td><td>R1</td><td class=\"record-accepted\">accepted</td>"));
    // Written through the batch command: 100 − 10 = 90 tablets left, one dispensing.
    assert_eq!(app.balance(&user, pharmacy.id, morphine).await, 90);
    let listed = app.get(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user).await.expect(200);
    assert_eq!(listed.body["meta"]["total"], 1);

    // The same form sent twice replays its answer; the file sent again as a new upload
    // finds R1 already recorded. Either way nothing is written twice.
    let twice = s.post_multipart("/dashboard/facility/dispensings/upload", &[("csrf", &token), ("idem", &idem)], csv.as_bytes()).await;
    assert!(twice.text.contains("1 accepted, 0 already recorded, 2 rejected."));
    let anew = s.post_multipart("/dashboard/facility/dispensings/upload", &[("csrf", &token), ("idem", "second")], csv.as_bytes()).await;
    assert!(anew.text.contains("0 accepted, 1 already recorded, 2 rejected."), "{}", anew.text);
    assert_eq!(app.balance(&user, pharmacy.id, morphine).await, 90);
    let admin = app.admin();
    let audit = app.get("/api/v1/audit-events?action=record_dispensings", &admin).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 2, "two uploads, one replay: {}", audit.text);

    // A file with a column the batch API does not know is refused, naming it.
    let wrong = s
        .post_multipart("/dashboard/facility/dispensings/upload", &[("csrf", &token), ("idem", "third")], b"client_record_id,colour\nR9,red\n")
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text.contains("colour"));

    // Last month had no dispensing: its row offers the zero report.
    let today = Utc::now().date_naive();
    let first = today.with_day(1).unwrap();
    let last_month = (first - chrono::Duration::days(1)).format("%Y-%m").to_string();
    let page = s.get("/dashboard/facility").await.text;
    assert!(page.contains(&format!("/dashboard/facility/periods/{last_month}/close")), "{page}");
    let r =
        s.post_form(&format!("/dashboard/facility/periods/{last_month}/close"), &[("csrf", &token), ("idem", "z1"), ("zero_report", "true")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let ministry = app.ministry("KZ");
    let periods = app.get(&format!("/api/v1/reporting-periods?period={last_month}"), &ministry).await.expect(200);
    let row = periods.body["facilities"].as_array().unwrap().iter().find(|f| f["facility_id"] == pharmacy.id).unwrap().clone();
    assert_eq!((row["status"].clone(), row["zero_report"].clone()), (json!("closed"), json!(true)));
    // This month has not ended: refused with the API's problem code.
    let this_month = today.format("%Y-%m").to_string();
    let r = s.post_form(&format!("/dashboard/facility/periods/{this_month}/close"), &[("csrf", &token), ("idem", "z2")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("period_not_ended"));
}

/// The pages read a facility's ledger from its newest end (`pages::ledger`): the rows and
/// balances must be those `db::ledger::page` computes over the whole history — across two
/// products, months, a reversal, and windows that end inside a month, at its start, and
/// after today.
#[actix_web::test]
async fn the_pages_ledger_reads_agree_with_the_full_ledger_page() {
    use tarozi::db::ledger::{self, LedgerFilter, LedgerRow};
    use tarozi::domain::ids::FacilityId;

    let app = TestApp::spawn().await;
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Apteka 9").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let fentanyl = app.product("fentanyl", "Fentanyl 0.1 mg ampoule", "0.1", "injection", "ampoule").await;
    // Within the backdating window: 29 days back to now.
    app.stock_up(&user, pharmacy.id, morphine, 500, days_ago(29)).await;
    app.stock_up(&user, pharmacy.id, fentanyl, 200, days_ago(29)).await;
    app.stock_up(&user, pharmacy.id, morphine, 300, days_ago(12)).await;
    let mut records = Vec::new();
    for k in 0..40i64 {
        let (product, units) = if k % 3 == 0 { (fentanyl, 5) } else { (morphine, 7 + k % 4) };
        records.push(json!({
            "client_record_id": format!("L{k}"), "product_id": product, "quantity_units": units,
            "dispensed_at": days_ago(28) + chrono::Duration::hours(14 * k), "patient_id": format!("KZ-{k}"), "patient_sex": "female",
            "patient_age": 60, "prescriber_id": "KZ-DOC-1", "prescription_number": format!("RX-{k}"),
            "days_supply": 10, "indication": "cancer"
        }));
    }
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", pharmacy.id), &user, json!({"records": records})).await.expect(200);
    let reversed = r.body["results"][5]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/stock-events/{reversed}/reversal"), &user, json!({"reason": "wrong patient"})).await.expect(201);

    let mut conn = app.conn();
    let id = FacilityId(pharmacy.id);
    let shown = |rows: Vec<LedgerRow>| {
        rows.iter().map(|r| (r.id, r.product_id, r.kind.as_str(), r.delta_units, r.balance_after_units, r.occurred_at)).collect::<Vec<_>>()
    };
    for limit in [1, 5, 20, 100] {
        let full = ledger::page(&mut conn, id, &LedgerFilter::default(), 0, limit).unwrap().0;
        assert_eq!(shown(tarozi::pages::ledger::newest(&mut conn, id, limit).unwrap()), shown(full), "newest {limit}");
    }
    let zone: chrono_tz::Tz = "Asia/Almaty".parse().unwrap();
    let month_start = |days: i64| {
        let day = tarozi::domain::period::local_day(zone, days_ago(days));
        tarozi::domain::period::local_midnight(zone, day.with_day(1).unwrap())
    };
    let windows = [
        (days_ago(40), days_ago(20)),
        (days_ago(25), days_ago(10)),
        (days_ago(60), month_start(0)),
        (month_start(20), month_start(0)),
        (days_ago(20), days_ago(-40)),
        (days_ago(400), days_ago(-400)),
    ];
    for (from, to) in windows {
        for limit in [3, 1000] {
            let filter = LedgerFilter { from: Some(from), to: Some(to), ..LedgerFilter::default() };
            let full = ledger::page(&mut conn, id, &filter, 0, limit).unwrap().0;
            let window = tarozi::pages::ledger::window(&mut conn, id, zone, from, to, limit).unwrap();
            assert_eq!(shown(window), shown(full), "{from} to {to}, {limit}");
        }
    }
}
