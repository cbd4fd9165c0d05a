use awc::http::Method;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago, test_settings};

struct Setup {
    app: TestApp,
    pharmacy: Facility,
    user: TestUser,
    morphine: i64,
}

async fn setup_with(app: TestApp, stock: i64) -> Setup {
    let almaty = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Dari-Darmek 7").await;
    let user = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    if stock > 0 {
        app.stock_up(&user, pharmacy.id, morphine, stock, days_ago(20)).await;
    }
    Setup { app, pharmacy, user, morphine }
}

async fn setup(stock: i64) -> Setup {
    setup_with(TestApp::spawn().await, stock).await
}

fn record(id: &str, product: i64, units: i64, at: DateTime<Utc>, patient: &str) -> Value {
    json!({
        "client_record_id": id, "product_id": product, "quantity_units": units, "dispensed_at": at,
        "patient_id": patient, "patient_sex": "female", "patient_age": 67, "prescriber_id": "KZ-DOC-1001",
        "prescription_number": format!("RX-{id}"), "days_supply": 10, "indication": "cancer"
    })
}

impl Setup {
    fn path(&self) -> String {
        format!("/api/v1/facilities/{}/dispensings", self.pharmacy.id)
    }

    async fn send(&self, records: Vec<Value>) -> crate::helpers::TestResponse {
        self.app.post(&self.path(), &self.user, json!({"records": records})).await
    }
}

fn statuses(r: &crate::helpers::TestResponse) -> Vec<String> {
    r.body["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_mixed_batch_answers_every_record_and_bad_records_never_block_good_ones() {
    let s = setup(100).await;
    let t = days_ago(1);
    let mut zero = record("r2", s.morphine, 0, t, "870412300123");
    zero["quantity_units"] = json!(0);
    let r = s
        .send(vec![
            record("r1", s.morphine, 60, t, "870412300123"),
            zero,
            record("r3", 999_999, 1, t, "870412300123"),
            record("r4", s.morphine, 1, t, "12/34-NOT-AN-ID"),
            json!({"client_record_id": "r5", "product_id": "seven"}),
            record("r6", s.morphine, 20, t, "900101400555"),
        ])
        .await
        .expect(200);
    assert_eq!((r.body["accepted"].as_i64(), r.body["replayed"].as_i64(), r.body["rejected"].as_i64()), (Some(2), Some(0), Some(4)));
    assert_eq!(statuses(&r), vec!["accepted", "rejected", "rejected", "rejected", "rejected", "accepted"]);
    let pointer = |i: usize| r.body["results"][i]["problem"]["errors"][0]["pointer"].as_str().unwrap().to_owned();
    assert_eq!(pointer(1), "/records/1/quantity_units");
    assert_eq!(pointer(2), "/records/2/product_id");
    assert_eq!(pointer(3), "/records/3/patient_id");
    assert_eq!(pointer(4), "/records/4/product_id");
    assert!(!r.text.contains("NOT-AN-ID"), "a bad identifier is never echoed");
    assert!(r.body["results"][0]["id"].is_i64());
    assert_eq!(s.app.balance(&s.user, s.pharmacy.id, s.morphine).await, 20);

    // The stored record carries the patient-level MME: 60 × 10 mg over 10 days = 60 MME/day.
    let list = s.app.get(&s.path(), &s.user).await.expect(200);
    let stored = list.body["dispensings"].as_array().unwrap().iter().find(|d| d["client_record_id"] == "r1").unwrap().clone();
    assert_eq!(stored["daily_mme"], json!(60));
    assert_eq!(stored["patient_age_band"], "60-74");
    assert_eq!(stored["patient_pseudonym"].as_str().unwrap().len(), 64);
    assert!(stored.get("patient_id").is_none());
}

#[actix_web::test]
async fn a_record_sent_again_is_replayed_never_duplicated() {
    let s = setup(100).await;
    let t = days_ago(1);
    let batch = vec![record("a", s.morphine, 5, t, "870412300123"), record("b", s.morphine, 5, t, "870412300123")];
    let first = s.send(batch.clone()).await.expect(200);
    let again = s.send(batch).await.expect(200);
    assert_eq!(statuses(&again), vec!["replayed", "replayed"]);
    assert_eq!(again.body["results"][0]["id"], first.body["results"][0]["id"]);
    assert_eq!(s.app.balance(&s.user, s.pharmacy.id, s.morphine).await, 90);
    // Same id, another record: refused, not overwritten.
    let clash = s.send(vec![record("a", s.morphine, 6, t, "870412300123")]).await.expect(200);
    assert_eq!(clash.body["results"][0]["problem"]["code"], "client_record_id_reused");
    // A record repeated within one batch is written once.
    let twice = s.send(vec![record("c", s.morphine, 1, t, "870412300123"), record("c", s.morphine, 1, t, "870412300123")]).await.expect(200);
    assert_eq!(statuses(&twice), vec!["accepted", "replayed"]);
    assert_eq!(twice.body["results"][0]["id"], twice.body["results"][1]["id"]);
    use tarozi::db::schema::dispensings;
    let n: i64 = dispensings::table.count().get_result(&mut s.app.conn()).unwrap();
    assert_eq!(n, 3);

    // The whole request honours Idempotency-Key too.
    let body = json!({"records": [record("d", s.morphine, 1, t, "870412300123")]});
    let headers = [("Idempotency-Key", "batch-d")];
    let one = s.app.request_with(Method::POST, &s.path(), Some(&s.user.token), Some(&body), &headers).await.expect(200);
    let two = s.app.request_with(Method::POST, &s.path(), Some(&s.user.token), Some(&body), &headers).await.expect(200);
    assert_eq!(one.body, two.body, "the stored response, not a re-evaluation");
    let other = json!({"records": [record("e", s.morphine, 1, t, "870412300123")]});
    assert_eq!(
        s.app.request_with(Method::POST, &s.path(), Some(&s.user.token), Some(&other), &headers).await.expect(422).code(),
        "idempotency_key_reused"
    );
}

#[actix_web::test]
async fn a_batch_cannot_oversell_and_is_applied_in_time_order() {
    let s = setup(10).await;
    let t1 = days_ago(3);
    let t2 = t1 + Duration::hours(1);
    let t3 = t1 + Duration::hours(2);
    // Sent newest first: applied by time, 6 (t1) leaves 4, 6 (t2) is refused, 4 (t3) fits.
    let r = s
        .send(vec![record("late", s.morphine, 4, t3, "1"), record("early", s.morphine, 6, t1, "2"), record("middle", s.morphine, 6, t2, "3")])
        .await
        .expect(200);
    assert_eq!(statuses(&r), vec!["accepted", "accepted", "rejected"]);
    let problem = &r.body["results"][2]["problem"];
    assert_eq!(problem["code"], "insufficient_stock");
    assert_eq!(problem["balance_at_time_units"], 4);
    assert_eq!(s.app.balance(&s.user, s.pharmacy.id, s.morphine).await, 0);
    use tarozi::db::schema::refused_attempts as ra;
    let codes: Vec<String> = ra::table.filter(ra::facility_id.eq(s.pharmacy.id)).select(ra::code).load(&mut s.app.conn()).unwrap();
    assert_eq!(codes, vec!["insufficient_stock"], "the refusal is kept as evidence");

    // A backdated dispensing may not break the balance after an existing later entry.
    s.app.stock_up(&s.user, s.pharmacy.id, s.morphine, 5, days_ago(2)).await;
    s.app
        .post(
            &format!("/api/v1/facilities/{}/stock-events", s.pharmacy.id),
            &s.user,
            json!({"kind": "destruction", "product_id": s.morphine, "quantity_units": 5, "occurred_at": days_ago(1)}),
        )
        .await
        .expect(201);
    let r = s.send(vec![record("backdated", s.morphine, 1, days_ago(2) + Duration::hours(1), "4")]).await.expect(200);
    assert_eq!(statuses(&r), vec!["rejected"]);
}

#[actix_web::test]
async fn a_dispensing_reversal_restores_stock_and_both_show_in_the_ledger() {
    let s = setup(10).await;
    let r = s.send(vec![record("x", s.morphine, 3, days_ago(1), "870412300123")]).await.expect(200);
    let id = r.body["results"][0]["id"].as_i64().unwrap();
    s.app.post(&format!("/api/v1/stock-events/{id}/reversal"), &s.user, json!({"reason": "entered for the wrong patient"})).await.expect(201);
    assert_eq!(s.app.balance(&s.user, s.pharmacy.id, s.morphine).await, 10);
    let ledger = s.app.get(&format!("/api/v1/facilities/{}/stock-events", s.pharmacy.id), &s.user).await.expect(200);
    let kinds: Vec<&str> = ledger.body["stock_events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 3);
    assert!(kinds.contains(&"dispense") && kinds.contains(&"reversal"));
}

#[actix_web::test]
async fn only_the_pharmacy_itself_records_its_dispensings() {
    let s = setup(10).await;
    let app = &s.app;
    let other = app.facility(app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "Other").await;
    let body = json!({"records": [record("x", s.morphine, 1, days_ago(1), "1")]});
    app.post(&s.path(), &app.facility_user(&other), body.clone()).await.expect(403);
    app.post(&s.path(), &app.regulator("KZ"), body.clone()).await.expect(403);
    app.post(&s.path(), &app.admin(), body.clone()).await.expect(403);
    app.get(&s.path(), &app.facility_user(&other)).await.expect(403);
    app.get(&s.path(), &app.ministry("KZ")).await.expect(403);
    app.get(&s.path(), &app.regulator("UZ")).await.expect(403);
    app.get(&s.path(), &app.regulator("KZ")).await.expect(200);
    let wholesaler = app.facility(app.region("KZ", "Shymkent").await, FacilityKind::Wholesaler, "W").await;
    let r = app.post(&format!("/api/v1/facilities/{}/dispensings", wholesaler.id), &app.facility_user(&wholesaler), body).await.expect(422);
    assert_eq!(r.code(), "not_a_dispensing_facility");
    let empty = app.post(&s.path(), &s.user, json!({"records": []})).await.expect(422);
    assert_eq!(empty.pointers(), vec!["/records"]);
}

#[actix_web::test]
async fn the_same_patient_has_the_same_pseudonym_in_every_pharmacy_of_the_country() {
    let s = setup(10).await;
    let app = &s.app;
    let second = app.facility(app.region("KZ", "Karaganda").await, FacilityKind::Pharmacy, "Second").await;
    let second_user = app.facility_user(&second);
    app.stock_up(&second_user, second.id, s.morphine, 10, days_ago(20)).await;
    s.send(vec![record("p1", s.morphine, 1, days_ago(2), "870412-300-123"), record("p2", s.morphine, 1, days_ago(2), "900101400555")])
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/facilities/{}/dispensings", second.id),
        &second_user,
        json!({"records": [record("q1", s.morphine, 1, days_ago(1), "870412 300123")]}),
    )
    .await
    .expect(200);
    let pseudonym_of = |r: &crate::helpers::TestResponse, cid: &str| -> String {
        r.body["dispensings"].as_array().unwrap().iter().find(|d| d["client_record_id"] == cid).unwrap()["patient_pseudonym"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first_list = app.get(&s.path(), &s.user).await.expect(200);
    let second_list = app.get(&format!("/api/v1/facilities/{}/dispensings", second.id), &second_user).await.expect(200);
    let p = pseudonym_of(&first_list, "p1");
    assert_eq!(p, pseudonym_of(&second_list, "q1"));
    assert_ne!(p, pseudonym_of(&first_list, "p2"));

    let regulator = app.regulator("KZ");
    let across = app.get(&format!("/api/v1/dispensings?patient_pseudonym={p}"), &regulator).await.expect(200);
    assert_eq!(across.body["meta"]["total"], 2);
    app.get(&format!("/api/v1/dispensings?patient_pseudonym={p}"), &app.ministry("KZ")).await.expect(403);
    assert_eq!(app.get(&format!("/api/v1/dispensings?patient_pseudonym={p}"), &app.regulator("UZ")).await.expect(200).body["meta"]["total"], 0);
    app.get("/api/v1/dispensings", &regulator).await.expect(422);

    // Filters of the facility listing.
    let by_prescriber = app.get(&format!("{}?prescriber_id=KZ-DOC-1001&product_id={}", s.path(), s.morphine), &s.user).await.expect(200);
    assert_eq!(by_prescriber.body["meta"]["total"], 2);
    assert_eq!(app.get(&format!("{}?prescriber_id=KZ-DOC-9", s.path()), &s.user).await.expect(200).body["meta"]["total"], 0);
}

#[actix_web::test]
async fn the_raw_national_identifier_is_in_no_table() {
    let s = setup(10).await;
    let app = &s.app;
    let secret = "770707300999";
    let headers = [("Idempotency-Key", "secret-batch")];
    let body = json!({"records": [record("s1", s.morphine, 1, days_ago(1), secret), record("s2", 999_999, 1, days_ago(1), secret), record("s3", s.morphine, 100, days_ago(1), secret)]});
    let r = app.request_with(Method::POST, &s.path(), Some(&s.user.token), Some(&body), &headers).await.expect(200);
    assert!(!r.text.contains(secret));
    let mut conn = app.conn();
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let tables: Vec<Name> =
        diesel::sql_query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
            .load(&mut conn)
            .unwrap();
    assert!(tables.len() > 15);
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for t in tables {
        // Every column as text, bytea columns decoded too.
        let sql = format!(
            "SELECT count(*) AS n FROM \"{0}\" x WHERE x::text LIKE '%{1}%' OR encode(convert_to(x::text, 'UTF8'), 'escape') LIKE '%{1}%'",
            t.table_name, secret
        );
        let c: Count = diesel::sql_query(sql).get_result(&mut conn).unwrap();
        assert_eq!(c.n, 0, "the identifier is stored in {}", t.table_name);
    }
    let stored: Vec<Vec<u8>> = {
        use tarozi::db::schema::idempotency_keys as k;
        k::table.select(k::response_body).load(&mut conn).unwrap()
    };
    assert!(!stored.is_empty());
    for body in stored {
        assert!(!String::from_utf8_lossy(&body).contains(secret), "the stored response holds the identifier");
    }
}

#[actix_web::test]
async fn transdermal_dispensings_use_the_delivery_rate_for_daily_mme() {
    let s = setup(0).await;
    let patch = s.app.product("fentanyl", "Fentanyl 25 mcg/h patch", "4.125", "transdermal_patch", "patch").await;
    s.app.stock_up(&s.user, s.pharmacy.id, patch, 10, days_ago(20)).await;
    let mut rec = record("f1", patch, 10, days_ago(1), "1");
    rec["days_supply"] = json!(30);
    s.send(vec![rec]).await.expect(200);
    let list = s.app.get(&s.path(), &s.user).await.expect(200);
    assert_eq!(list.body["dispensings"][0]["daily_mme"], json!(60), "25 mcg/h × 2.4");
}

#[actix_web::test]
async fn a_month_closes_with_its_records_or_an_explicit_zero_report() {
    let mut settings = test_settings();
    settings.backdate_days = 400;
    let s = setup_with(TestApp::spawn_with(settings).await, 0).await;
    let app = &s.app;
    // Months are Kazakhstan's (the pharmacy's country), cut at its local midnight.
    let almaty = tarozi::domain::period::zone("Asia/Almaty").unwrap();
    let today = tarozi::domain::period::today_in(almaty, Utc::now());
    let this_month = tarozi::domain::period::Month::of(today);
    let month_ago = tarozi::domain::period::Month::of(this_month.first_day() - Duration::days(1));
    let two_ago = tarozi::domain::period::Month::of(month_ago.first_day() - Duration::days(1));
    app.stock_up(&s.user, s.pharmacy.id, s.morphine, 10, two_ago.bounds(almaty).0 - Duration::days(1)).await;
    let in_two_ago = two_ago.bounds(almaty).0 + Duration::days(3);
    s.send(vec![record("old", s.morphine, 1, in_two_ago, "1")]).await.expect(200);
    let close = |m: &tarozi::domain::period::Month| format!("/api/v1/facilities/{}/reporting-periods/{}/close", s.pharmacy.id, m.label());

    let r = app.post(&close(&two_ago), &s.user, json!({"zero_report": true})).await.expect(422);
    assert_eq!(r.code(), "not_a_zero_period");
    let r = app.post(&close(&two_ago), &s.user, json!({})).await.expect(201);
    assert_eq!(r.body["reporting_period"]["dispensing_count"], 1);
    assert_eq!(app.post(&close(&two_ago), &s.user, json!({})).await.expect(409).code(), "period_already_closed");
    // Nothing recorded last month: closing needs an explicit zero report.
    assert_eq!(app.post(&close(&month_ago), &s.user, json!({})).await.expect(422).code(), "zero_report_required");
    let r = app.request(Method::POST, &close(&month_ago), Some(&s.user.token), Some(&json!({"zero_report": true}))).await.expect(201);
    assert_eq!(r.body["reporting_period"]["zero_report"], true);
    assert_eq!(app.post(&close(&this_month), &s.user, json!({"zero_report": true})).await.expect(422).code(), "period_not_ended");
    let bad = app.post(&format!("/api/v1/facilities/{}/reporting-periods/2026-13/close", s.pharmacy.id), &s.user, json!({})).await.expect(422);
    assert_eq!(bad.pointers(), vec!["period"]);

    // A closed month takes no more dispensings.
    let r = s.send(vec![record("late-entry", s.morphine, 1, in_two_ago + Duration::days(1), "1")]).await.expect(200);
    assert_eq!(r.body["results"][0]["problem"]["code"], "period_closed");

    // The country list: this pharmacy closed both; another never reported and is late.
    let silent = app.facility(app.region("KZ", "Aktobe").await, FacilityKind::Hospital, "Silent hospital").await;
    let ministry = app.ministry("KZ");
    let list = app.get(&format!("/api/v1/reporting-periods?period={}", two_ago.label()), &ministry).await.expect(200);
    let status_of = |id: i64| list.body["facilities"].as_array().unwrap().iter().find(|f| f["facility_id"] == id).unwrap()["status"].clone();
    assert_eq!(status_of(s.pharmacy.id), "closed");
    assert_eq!(status_of(silent.id), "late");
    let late = app.get(&format!("/api/v1/reporting-periods?period={}&status=late", two_ago.label()), &ministry).await.expect(200);
    assert_eq!(late.body["facilities"].as_array().unwrap().len(), 1);
    let current = app.get(&format!("/api/v1/reporting-periods?period={}", this_month.label()), &ministry).await.expect(200);
    assert!(current.body["facilities"].as_array().unwrap().iter().all(|f| f["status"] == "open"));
    app.get(&format!("/api/v1/reporting-periods?period={}", this_month.label()), &s.user).await.expect(403);
}

#[actix_web::test]
async fn closing_a_month_waits_for_a_batch_of_the_same_facility_in_flight() {
    let s = setup(0).await;
    let first_of_this_month = chrono::Datelike::with_day(&Utc::now().date_naive(), 1).unwrap();
    let month = tarozi::domain::period::Month::of(first_of_this_month - Duration::days(1));
    let path = format!("/api/v1/facilities/{}/reporting-periods/{}/close", s.pharmacy.id, month.label());
    // A batch of this facility holds its lock (as `record_batch::execute` does until commit).
    let mut batch = s.app.conn();
    diesel::sql_query("BEGIN").execute(&mut batch).unwrap();
    tarozi::app::dispensing::record_batch::lock_facility(&mut batch, tarozi::domain::ids::FacilityId(s.pharmacy.id)).unwrap();
    let mut close = Box::pin(s.app.post(&path, &s.user, json!({"zero_report": true})));
    let waited = actix_web::rt::time::timeout(std::time::Duration::from_millis(1500), &mut close).await;
    assert!(waited.is_err(), "the month was counted and closed while a batch could still land in it: {:?}", waited.map(|r| r.text));
    diesel::sql_query("COMMIT").execute(&mut batch).unwrap();
    let r = close.await.expect(201);
    assert_eq!(r.body["reporting_period"]["zero_report"], true, "{}", r.text);
}

#[actix_web::test]
async fn facilities_whose_ids_agree_in_their_low_32_bits_do_not_share_the_dispensing_lock() {
    let s = setup(0).await;
    // The next facility's id is the pharmacy's plus 2^32: the same id cut to 32 bits.
    let twin_id = s.pharmacy.id + (1_i64 << 32);
    diesel::sql_query("SELECT setval('facilities_id_seq', $1)").bind::<diesel::sql_types::BigInt, _>(twin_id - 1).execute(&mut s.app.conn()).unwrap();
    let turkistan = s.app.region("KZ", "Turkistan").await;
    let twin = s.app.facility(turkistan, FacilityKind::Pharmacy, "Dari-Darmek 8").await;
    assert_eq!(twin.id, twin_id);
    let twin_user = s.app.facility_user(&twin);
    let first_of_this_month = chrono::Datelike::with_day(&Utc::now().date_naive(), 1).unwrap();
    let month = tarozi::domain::period::Month::of(first_of_this_month - Duration::days(1));
    // A batch of the pharmacy holds its lock; closing the twin's month must not wait for it.
    let mut batch = s.app.conn();
    diesel::sql_query("BEGIN").execute(&mut batch).unwrap();
    tarozi::app::dispensing::record_batch::lock_facility(&mut batch, tarozi::domain::ids::FacilityId(s.pharmacy.id)).unwrap();
    let path = format!("/api/v1/facilities/{}/reporting-periods/{}/close", twin.id, month.label());
    let close = s.app.post(&path, &twin_user, json!({"zero_report": true}));
    let closed = actix_web::rt::time::timeout(std::time::Duration::from_secs(5), close).await;
    diesel::sql_query("COMMIT").execute(&mut batch).unwrap();
    let r = closed.expect("closing another facility's month waited for the pharmacy's batch lock");
    let r = r.expect(201);
    assert_eq!(r.body["reporting_period"]["facility_id"], twin_id, "{}", r.text);
}
