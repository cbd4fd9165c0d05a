//! Planted cases and near misses of diversion rules (rules_a).
//!
//! Each test plants data through the API, runs a scan as the regulator and reads the flags
//! of one rule: the planted facility (or substance) is flagged with its evidence, the near
//! miss beside it is not.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;
use tarozi::domain::period::Month;

use crate::helpers::{Facility, TestApp, TestResponse, TestUser, days_ago, test_settings};

/// A test app, its regulator, one region and a morphine 10 mg tablet.
struct World {
    app: TestApp,
    regulator: TestUser,
    region: i64,
    morphine: i64,
}

/// A facility and its reporting user.
struct Site {
    facility: Facility,
    user: TestUser,
}

async fn world(app: TestApp) -> World {
    let region = app.region("KZ", "Almaty").await;
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let regulator = app.regulator("KZ");
    World { app, regulator, region, morphine }
}

/// An app whose business times may lie 400 days back (for baselines months back).
async fn backdated_app() -> TestApp {
    let mut settings = test_settings();
    settings.backdate_days = 400;
    TestApp::spawn_with(settings).await
}

/// Today in Kazakhstan (the tests' country): its days end at local midnight.
fn today() -> NaiveDate {
    tarozi::domain::period::today_in(almaty(), Utc::now())
}

fn almaty() -> tarozi::domain::period::Tz {
    tarozi::domain::period::zone("Asia/Almaty").unwrap()
}

/// Noon UTC on `day`.
fn noon(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
}

impl World {
    async fn site(&self, kind: FacilityKind, name: &str) -> Site {
        let facility = self.app.facility(self.region, kind, name).await;
        let user = self.app.facility_user(&facility);
        Site { facility, user }
    }

    async fn event(&self, site: &Site, kind: &str, product: i64, units: i64, at: DateTime<Utc>) -> TestResponse {
        self.app
            .post(
                &format!("/api/v1/facilities/{}/stock-events", site.facility.id),
                &site.user,
                json!({"kind": kind, "product_id": product, "quantity_units": units, "occurred_at": at}),
            )
            .await
    }

    async fn receive(&self, site: &Site, product: i64, units: i64, at: DateTime<Utc>) {
        self.app.stock_up(&site.user, site.facility.id, product, units, at).await;
    }

    /// Runs a scan of KZ over `[from, to]`; no rule may fail.
    async fn scan(&self, from: NaiveDate, to: NaiveDate) -> Value {
        let r = self.app.scan(&self.regulator, json!({"country_code": "KZ", "from": from, "to": to})).await;
        let rules = r.body["scan"]["rules"].as_array().unwrap();
        assert!(rules.iter().all(|r| r.get("error").is_none()), "{rules:?}");
        r.body["scan"].clone()
    }

    async fn flags(&self, rule: &str) -> Vec<Value> {
        let r = self.app.get(&format!("/api/v1/flags?rule={rule}&per_page=100"), &self.regulator).await.expect(200);
        r.body["flags"].as_array().unwrap().clone()
    }
}

/// The flags about `site`'s facility.
fn flags_of<'a>(flags: &'a [Value], site: &Site) -> Vec<&'a Value> {
    flags.iter().filter(|f| f["subject_type"] == "facility" && subject_id(f) == Some(site.facility.id)).collect()
}

/// The one flag about `site`'s facility.
#[track_caller]
fn flag_of<'a>(flags: &'a [Value], site: &Site) -> &'a Value {
    let found = flags_of(flags, site);
    assert_eq!(found.len(), 1, "{flags:?}");
    found[0]
}

/// A flag's subject id, which is text on the wire.
fn subject_id(flag: &Value) -> Option<i64> {
    flag["subject_id"].as_str().and_then(|s| s.parse().ok())
}

fn ids(value: &Value) -> Vec<i64> {
    value.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

fn id_of(r: &TestResponse, key: &str) -> i64 {
    r.body[key]["id"].as_i64().unwrap()
}

#[actix_web::test]
async fn counts_short_by_more_than_five_units_or_two_percent_are_flagged_and_five_in_a_thousand_are_not() {
    let w = world(TestApp::spawn().await).await;
    let six_short = w.site(FacilityKind::Pharmacy, "Six short").await;
    let three_pct = w.site(FacilityKind::Pharmacy, "Three percent short").await;
    let fifteen_pct = w.site(FacilityKind::Hospital, "Fifteen percent short").await;
    let five_short = w.site(FacilityKind::Pharmacy, "Five short").await;
    let surplus = w.site(FacilityKind::Pharmacy, "Surplus").await;
    let mut count_ids = Vec::new();
    for (site, stock, counted) in
        [(&six_short, 1000, 994), (&three_pct, 100, 97), (&fifteen_pct, 100, 85), (&five_short, 1000, 995), (&surplus, 100, 101)]
    {
        w.receive(site, w.morphine, stock, days_ago(5)).await;
        let r = w
            .app
            .post(
                &format!("/api/v1/facilities/{}/inventory-counts", site.facility.id),
                &site.user,
                json!({"product_id": w.morphine, "counted_units": counted, "counted_at": days_ago(2)}),
            )
            .await
            .expect(201);
        count_ids.push(id_of(&r, "inventory_count"));
    }
    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("inventory_variance").await;
    assert_eq!(flags.len(), 3, "{flags:?}");

    let six = flag_of(&flags, &six_short);
    assert_eq!(six["severity"], "medium");
    assert_eq!(six["facility_id"], six_short.facility.id);
    assert_eq!(ids(&six["evidence"]["records"]["inventory_counts"]), vec![count_ids[0]]);
    let count = &six["evidence"]["figures"]["counts"][0];
    assert_eq!(count["expected_units"], 1000);
    assert_eq!(count["counted_units"], 994);
    assert_eq!(count["variance_units"], -6);
    assert_eq!(six["evidence"]["figures"]["shortfall_units"], 6);
    assert_eq!(six["evidence"]["thresholds"]["units"], 5);

    let three = flag_of(&flags, &three_pct);
    assert_eq!(three["severity"], "medium");
    assert_eq!(three["evidence"]["figures"]["counts"][0]["shortfall_pct"].to_string(), "3");
    let fifteen = flag_of(&flags, &fifteen_pct);
    assert_eq!(fifteen["severity"], "high", "beyond high_pct");
    assert_eq!(fifteen["evidence"]["figures"]["shortfall_units"], 15);

    assert!(flags_of(&flags, &five_short).is_empty(), "0.5 % and 5 units is within tolerance");
    assert!(flags_of(&flags, &surplus).is_empty());
}

#[actix_web::test]
async fn a_theft_is_always_flagged_high_unless_it_was_reversed() {
    let w = world(TestApp::spawn().await).await;
    let robbed = w.site(FacilityKind::Pharmacy, "Robbed").await;
    let corrected = w.site(FacilityKind::Pharmacy, "Corrected").await;
    let mut theft_ids = Vec::new();
    for site in [&robbed, &corrected] {
        w.receive(site, w.morphine, 1000, days_ago(5)).await;
        let r = w.event(site, "theft", w.morphine, 1, days_ago(3)).await.expect(201);
        theft_ids.push(id_of(&r, "stock_event"));
    }
    w.app
        .post(&format!("/api/v1/stock-events/{}/reversal", theft_ids[1]), &corrected.user, json!({"reason": "the box was found in the wrong safe"}))
        .await
        .expect(201);
    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("loss_or_theft").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = flag_of(&flags, &robbed);
    assert_eq!(flag["severity"], "high");
    assert_eq!(ids(&flag["evidence"]["records"]["stock_events"]), vec![theft_ids[0]]);
    assert_eq!(flag["evidence"]["figures"]["theft_units"], 1);
    assert_eq!(flag["evidence"]["figures"]["throughput_units"], 1000);
}

#[actix_web::test]
async fn losses_above_one_percent_of_throughput_or_three_within_ninety_days_are_flagged_medium() {
    let w = world(TestApp::spawn().await).await;
    let large = w.site(FacilityKind::Pharmacy, "Eleven lost").await;
    let tolerated = w.site(FacilityKind::Pharmacy, "Ten lost").await;
    let repeated = w.site(FacilityKind::Hospital, "Three losses").await;
    let twice = w.site(FacilityKind::Hospital, "Two losses").await;
    for site in [&large, &tolerated, &repeated, &twice] {
        w.receive(site, w.morphine, 1000, days_ago(8)).await;
    }
    w.event(&large, "loss", w.morphine, 11, days_ago(3)).await.expect(201);
    w.event(&tolerated, "loss", w.morphine, 10, days_ago(3)).await.expect(201);
    for day in [6, 4, 2] {
        w.event(&repeated, "loss", w.morphine, 1, days_ago(day)).await.expect(201);
    }
    for day in [6, 4] {
        w.event(&twice, "loss", w.morphine, 1, days_ago(day)).await.expect(201);
    }
    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("loss_or_theft").await;
    assert_eq!(flags.len(), 2, "{flags:?}");

    let flag = flag_of(&flags, &large);
    assert_eq!(flag["severity"], "medium");
    let figures = &flag["evidence"]["figures"];
    assert_eq!(figures["loss_units"], 11);
    assert_eq!(figures["throughput_units"], 1000);
    assert_eq!(figures["loss_pct_of_throughput"].to_string(), "1.1");
    assert_eq!(figures["large_losses"], true);
    assert_eq!(figures["repeated_losses"], false);

    let flag = flag_of(&flags, &repeated);
    assert_eq!(flag["severity"], "medium");
    assert_eq!(flag["evidence"]["figures"]["window_losses"], 3);
    assert_eq!(flag["evidence"]["figures"]["large_losses"], false);
    assert_eq!(flag["evidence"]["records"]["stock_events"].as_array().unwrap().len(), 3);

    assert!(flags_of(&flags, &tolerated).is_empty(), "exactly 1 % is tolerated");
    assert!(flags_of(&flags, &twice).is_empty(), "two small losses are not a pattern");
}

#[actix_web::test]
async fn a_short_receipt_or_a_transfer_unconfirmed_after_seven_days_is_flagged_at_the_destination() {
    let w = world(TestApp::spawn().await).await;
    let wholesaler = w.site(FacilityKind::Wholesaler, "KazPharm").await;
    let short = w.site(FacilityKind::Pharmacy, "Short").await;
    let complete = w.site(FacilityKind::Pharmacy, "Complete").await;
    let silent = w.site(FacilityKind::Pharmacy, "Silent for eight days").await;
    let waiting = w.site(FacilityKind::Pharmacy, "Silent for seven days").await;
    w.receive(&wholesaler, w.morphine, 1000, days_ago(20)).await;
    let ship = |to: &Site, at: DateTime<Utc>| json!({"from_facility_id": wholesaler.facility.id, "to_facility_id": to.facility.id, "product_id": w.morphine, "quantity_units": 100, "shipped_at": at});
    let mut transfer = Vec::new();
    for (to, at) in [(&short, days_ago(5)), (&complete, days_ago(5)), (&silent, days_ago(8)), (&waiting, days_ago(7))] {
        let r = w.app.post("/api/v1/transfers", &wholesaler.user, ship(to, at)).await.expect(201);
        transfer.push(id_of(&r, "transfer"));
    }
    for (site, id, units) in [(&short, transfer[0], 94), (&complete, transfer[1], 100)] {
        w.app
            .post(&format!("/api/v1/transfers/{id}/receipt"), &site.user, json!({"quantity_units": units, "received_at": days_ago(4)}))
            .await
            .expect(201);
    }
    w.scan(days_ago(10).date_naive(), today()).await;
    let flags = w.flags("transfer_mismatch").await;
    assert_eq!(flags.len(), 2, "{flags:?}");

    let flag = flag_of(&flags, &short);
    assert_eq!(flag["severity"], "high");
    assert_eq!(ids(&flag["evidence"]["records"]["transfers"]), vec![transfer[0]]);
    let t = &flag["evidence"]["figures"]["transfers"][0];
    assert_eq!(t["shipped_units"], 100);
    assert_eq!(t["received_units"], 94);
    assert_eq!(t["shortfall_units"], 6);
    assert_eq!(flag["evidence"]["figures"]["shortfall_units"], 6);

    let flag = flag_of(&flags, &silent);
    assert_eq!(flag["severity"], "medium");
    assert_eq!(ids(&flag["evidence"]["records"]["transfers"]), vec![transfer[2]]);
    let t = &flag["evidence"]["figures"]["transfers"][0];
    assert_eq!(t["days_unconfirmed"], 8);
    assert!(t["received_units"].is_null());
    assert_eq!(flag["evidence"]["thresholds"]["confirm_days"], 7);

    assert!(flags_of(&flags, &complete).is_empty());
    assert!(flags_of(&flags, &waiting).is_empty(), "seven days is still in time");
    assert!(flags_of(&flags, &wholesaler).is_empty(), "the destination answers for the receipt");
}

#[actix_web::test]
async fn a_refused_receipt_beyond_its_authorization_is_flagged_high_and_an_exact_one_is_not() {
    let w = world(TestApp::spawn().await).await;
    let morphine = w.app.substance_id("morphine").await;
    let year = Utc::now().year();
    w.app
        .post(
            "/api/v1/estimates",
            &w.regulator,
            json!({"country_code": "KZ", "substance_id": morphine, "year": year, "quantity_g": 100, "kind": "annual"}),
        )
        .await
        .expect(201);
    let greedy = w.site(FacilityKind::Importer, "Greedy importer").await;
    let exact = w.site(FacilityKind::Importer, "Exact importer").await;
    let mut receipts = Vec::new();
    for (site, number) in [(&greedy, "IA-1"), (&exact, "IA-2")] {
        let r = w
            .app
            .post(
                "/api/v1/import-authorizations",
                &w.regulator,
                json!({"number": number, "importer_facility_id": site.facility.id, "exporting_country": "IN", "product_id": w.morphine,
                       "quantity_units": 100, "valid_from": format!("{year}-01-01"), "valid_until": format!("{year}-12-31")}),
            )
            .await
            .expect(201);
        receipts.push(format!("/api/v1/import-authorizations/{}/receipts", id_of(&r, "import_authorization")));
    }
    let at = Utc::now() - Duration::minutes(1);
    let refused = w.app.post(&receipts[0], &greedy.user, json!({"quantity_units": 101, "received_at": at})).await.expect(422);
    assert_eq!(refused.code(), "authorization_exceeded");
    w.app.post(&receipts[1], &exact.user, json!({"quantity_units": 100, "received_at": at})).await.expect(201);
    // A refusal for missing stock belongs to another rule.
    w.event(&exact, "destruction", w.morphine, 101, at).await.expect(409);

    w.scan(at.date_naive(), today()).await;
    let flags = w.flags("receipt_without_authorization").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = flag_of(&flags, &greedy);
    assert_eq!(flag["severity"], "high");
    assert_eq!(flag["evidence"]["figures"]["attempts"], 1);
    assert_eq!(flag["evidence"]["figures"]["by_code"]["authorization_exceeded"], 1);
    assert_eq!(ids(&flag["evidence"]["figures"]["product_ids"]), vec![w.morphine]);
    assert_eq!(flag["evidence"]["records"]["refused_attempts"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn consumption_over_the_estimate_is_flagged_high_from_ninety_percent_low_and_without_estimate_high() {
    let w = world(TestApp::spawn().await).await;
    let at = Utc::now() - Duration::minutes(1);
    let year = at.year();
    let pharmacy = w.site(FacilityKind::Pharmacy, "Pharmacy").await;
    let wholesaler = w.site(FacilityKind::Wholesaler, "Wholesaler").await;
    // Four substances, 10 mg of base per tablet; estimates of 1 g = 100 tablets.
    let mut substance = Vec::new();
    let mut product = Vec::new();
    for inn in ["morphine", "oxycodone", "hydromorphone", "methadone"] {
        substance.push(w.app.substance_id(inn).await);
        product.push(if inn == "morphine" { w.morphine } else { w.app.product(inn, &format!("{inn} 10 mg tablet"), "10", "tablet", "tablet").await });
    }
    for &s in &substance[..3] {
        w.app
            .post(
                "/api/v1/estimates",
                &w.regulator,
                json!({"country_code": "KZ", "substance_id": s, "year": year, "quantity_g": "0.5", "kind": "annual"}),
            )
            .await
            .expect(201);
        w.app
            .post(
                "/api/v1/estimates",
                &w.regulator,
                json!({"country_code": "KZ", "substance_id": s, "year": year, "quantity_g": "0.5", "kind": "supplementary"}),
            )
            .await
            .expect(201);
    }
    // Morphine 101 tablets (101 %), oxycodone 90 (90 %), hydromorphone 89 (89 %) reach the
    // pharmacy; methadone has no estimate at all. Stock at a wholesaler is not consumption.
    for (i, units) in [(0, 101), (1, 90), (2, 89), (3, 1)] {
        w.receive(&pharmacy, product[i], units, at).await;
    }
    w.receive(&wholesaler, product[2], 1000, at).await;

    w.scan(at.date_naive(), at.date_naive()).await;
    let flags = w.flags("estimate_exceeded").await;
    assert_eq!(flags.len(), 3, "{flags:?}");
    let of = |i: usize| flags.iter().find(|f| subject_id(f) == Some(substance[i])).cloned();
    let morphine = of(0).expect("morphine is flagged");
    assert_eq!(morphine["subject_type"], "substance");
    assert_eq!(morphine["severity"], "high");
    assert_eq!(morphine["period_from"], format!("{year}-01-01"));
    assert_eq!(morphine["period_to"], format!("{year}-12-31"));
    let figures = &morphine["evidence"]["figures"];
    assert_eq!(figures["estimate_g"].to_string(), "1");
    assert_eq!(figures["consumed_g"].to_string(), "1.01");
    assert_eq!(figures["consumed_pct"].to_string(), "101");
    assert_eq!(figures["received_g"].to_string(), "0");
    assert_eq!(morphine["evidence"]["records"]["estimates"].as_array().unwrap().len(), 2);

    let oxycodone = of(1).expect("oxycodone is warned about");
    assert_eq!(oxycodone["severity"], "low");
    assert_eq!(oxycodone["evidence"]["figures"]["consumed_pct"].to_string(), "90");

    assert!(of(2).is_none(), "89 % of the estimate is no warning");

    let methadone = of(3).expect("consumption without an estimate is flagged");
    assert_eq!(methadone["severity"], "high");
    assert_eq!(methadone["evidence"]["figures"]["no_estimate"], true);
    assert_eq!(methadone["evidence"]["figures"]["consumed_g"].to_string(), "0.01");
}

#[actix_web::test]
async fn a_month_of_receipts_above_three_times_the_six_month_median_is_flagged_for_that_month() {
    let w = world(backdated_app().await).await;
    let last_month = Month::of(Month::of(today()).first_day() - Duration::days(1));
    // The six months before last month, oldest first.
    let mut baseline = vec![last_month];
    for _ in 0..6 {
        baseline.insert(0, Month::of(baseline[0].first_day() - Duration::days(1)));
    }
    baseline.pop();
    let mid = |m: Month| noon(m.first_day() + Duration::days(14));

    let spiking = w.site(FacilityKind::Pharmacy, "Thirty-one").await;
    let steady = w.site(FacilityKind::Pharmacy, "Thirty").await;
    let sparse = w.site(FacilityKind::Hospital, "Half the months").await;
    let new = w.site(FacilityKind::Pharmacy, "Two months of history").await;
    for &m in &baseline {
        w.receive(&spiking, w.morphine, 10, mid(m)).await;
        w.receive(&steady, w.morphine, 10, mid(m)).await;
    }
    // Three months of 10 and three without receipts: the median is 5.
    for &m in &baseline[3..] {
        w.receive(&sparse, w.morphine, 10, mid(m)).await;
    }
    for &m in &baseline[4..] {
        w.receive(&new, w.morphine, 10, mid(m)).await;
    }
    w.receive(&spiking, w.morphine, 31, mid(last_month)).await;
    w.receive(&steady, w.morphine, 30, mid(last_month)).await;
    w.receive(&sparse, w.morphine, 16, mid(last_month)).await;
    w.receive(&new, w.morphine, 100, mid(last_month)).await;

    // A day without receipts changes no month's total; the day of the receipts raises the
    // flag for the whole month.
    let quiet = last_month.first_day() + Duration::days(20);
    w.scan(quiet, quiet).await;
    assert!(w.flags("unusual_order_size").await.is_empty());
    let day = mid(last_month).date_naive();
    w.scan(day, day).await;
    let flags = w.flags("unusual_order_size").await;
    assert_eq!(flags.len(), 2, "{flags:?}");

    let flag = flag_of(&flags, &spiking);
    assert_eq!(flag["severity"], "medium");
    assert_eq!(flag["period_from"], last_month.first_day().to_string());
    assert_eq!(flag["period_to"], last_month.last_day().to_string());
    let p = &flag["evidence"]["figures"]["products"][0];
    assert_eq!(p["product_id"], w.morphine);
    assert_eq!(p["units"], 31);
    assert_eq!(p["median"].to_string(), "10");
    assert_eq!(p["months_with_receipts"], 6);
    assert_eq!(p["baseline"].as_array().unwrap().len(), 6);
    assert_eq!(flag["evidence"]["records"]["stock_events"].as_array().unwrap().len(), 1);

    let flag = flag_of(&flags, &sparse);
    let p = &flag["evidence"]["figures"]["products"][0];
    assert_eq!(p["median"].to_string(), "5", "months without receipts count as 0");
    assert_eq!(p["months_with_receipts"], 3);

    assert!(flags_of(&flags, &steady).is_empty(), "three times the median is not above it");
    assert!(flags_of(&flags, &new).is_empty(), "two months are too little history");
}

#[actix_web::test]
async fn an_order_sooner_than_a_third_of_the_usual_interval_is_flagged_and_a_bit_later_is_not() {
    let w = world(TestApp::spawn().await).await;
    let hasty = w.site(FacilityKind::Pharmacy, "Two days").await;
    let patient = w.site(FacilityKind::Pharmacy, "Sixty hours").await;
    let young = w.site(FacilityKind::Pharmacy, "Two intervals of history").await;
    // Weekly orders until six days ago: three intervals of seven days.
    let start = days_ago(27);
    for k in 0..4 {
        w.receive(&hasty, w.morphine, 10, start + Duration::days(7 * k)).await;
        w.receive(&patient, w.morphine, 10, start + Duration::days(7 * k)).await;
        if k > 0 {
            w.receive(&young, w.morphine, 10, start + Duration::days(7 * k)).await;
        }
    }
    let last = start + Duration::days(21);
    w.receive(&hasty, w.morphine, 10, last + Duration::days(2)).await;
    w.receive(&patient, w.morphine, 10, last + Duration::hours(60)).await;
    w.receive(&young, w.morphine, 10, last + Duration::days(1)).await;

    w.scan(days_ago(5).date_naive(), today()).await;
    let flags = w.flags("unusual_order_frequency").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = flag_of(&flags, &hasty);
    assert_eq!(flag["severity"], "low");
    let interval = &flag["evidence"]["figures"]["intervals"][0];
    assert_eq!(interval["product_id"], w.morphine);
    assert_eq!(interval["interval_days"].to_string(), "2");
    assert_eq!(interval["baseline_median_days"].to_string(), "7");
    assert_eq!(interval["baseline_intervals"], 3);
    assert_eq!(flag["evidence"]["records"]["stock_events"].as_array().unwrap().len(), 2, "the order and the one before it");
    assert_eq!(flag["evidence"]["thresholds"]["ratio"].to_string(), "0.3333");
    assert!(flags_of(&flags, &patient).is_empty(), "2.5 days is more than a third of 7");
    assert!(flags_of(&flags, &young).is_empty(), "two intervals make no baseline");

    // A long period reads every order of the country in one pass: same finding.
    w.scan(days_ago(5).date_naive(), today() + Duration::days(40)).await;
    let flags = w.flags("unusual_order_frequency").await;
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert!(flags.iter().all(|f| subject_id(f) == Some(hasty.facility.id)));
    assert_eq!(flags[0]["evidence"], flags[1]["evidence"]);
}

#[actix_web::test]
async fn a_month_left_open_past_its_due_date_is_flagged_once_per_facility_and_month() {
    let w = world(TestApp::spawn().await).await;
    let this_month = Month::of(today());
    let month_ago = Month::of(this_month.first_day() - Duration::days(1));
    let two_ago = Month::of(month_ago.first_day() - Duration::days(1));
    let three_ago = Month::of(two_ago.first_day() - Duration::days(1));
    let forgetful = w.site(FacilityKind::Pharmacy, "Closed one of two").await;
    let diligent = w.site(FacilityKind::Hospital, "Closed both").await;
    let new = w.site(FacilityKind::Hospital, "Opened this month").await;
    let wholesaler = w.site(FacilityKind::Wholesaler, "Does not dispense").await;
    // No endpoint sets when a facility was registered: the three older ones were
    // registered before the months under scan.
    {
        use diesel::prelude::*;
        let mut conn = w.app.conn();
        for site in [&forgetful, &diligent, &wholesaler] {
            diesel::sql_query("UPDATE facilities SET created_at = $1 WHERE id = $2")
                .bind::<diesel::sql_types::Timestamptz, _>(three_ago.bounds(almaty()).0 - Duration::days(1))
                .bind::<diesel::sql_types::BigInt, _>(site.facility.id)
                .execute(&mut conn)
                .unwrap();
        }
    }
    for (site, m) in [(&forgetful, three_ago), (&diligent, three_ago), (&diligent, two_ago)] {
        w.app
            .post(&format!("/api/v1/facilities/{}/reporting-periods/{}/close", site.facility.id, m.label()), &site.user, json!({"zero_report": true}))
            .await
            .expect(201);
    }

    w.scan(three_ago.first_day(), two_ago.last_day()).await;
    let flags = w.flags("late_or_missing_report").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = flag_of(&flags, &forgetful);
    assert_eq!(flag["period_from"], two_ago.first_day().to_string());
    assert_eq!(flag["period_to"], two_ago.last_day().to_string());
    let due = two_ago.due_by(10);
    assert_eq!(flag["evidence"]["figures"]["period"], two_ago.label());
    assert_eq!(flag["evidence"]["figures"]["due_by"], due.to_string());
    let overdue = (today() - due).num_days();
    assert_eq!(flag["severity"], if overdue > 30 { "medium" } else { "low" });
    assert!(flags_of(&flags, &diligent).is_empty());
    assert!(flags_of(&flags, &new).is_empty(), "it did not exist then");
    assert!(flags_of(&flags, &wholesaler).is_empty(), "only dispensing facilities report");

    // The current month is not due yet.
    let scan = w.scan(this_month.first_day(), today()).await;
    let report = scan["rules"].as_array().unwrap().iter().find(|r| r["code"] == "late_or_missing_report").unwrap().clone();
    assert_eq!(report["findings"], 0);
}

#[actix_web::test]
async fn nonsense_parameters_of_these_rules_are_refused() {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    for (rule, params) in [
        ("inventory_variance", json!({"pct": -1})),
        ("loss_or_theft", json!({"window_days": 0})),
        ("transfer_mismatch", json!({"confirm_days": -1})),
        ("receipt_without_authorization", json!({"min_attempts": 0})),
        ("estimate_exceeded", json!({"exceed_pct": 80})),
        ("unusual_order_size", json!({"min_history": 7})),
        ("unusual_order_frequency", json!({"ratio": 0})),
        ("late_or_missing_report", json!({"medium_after_days": -5})),
    ] {
        let r = app.patch(&format!("/api/v1/rules/{rule}"), &regulator, json!({"params": params})).await.expect(422);
        assert_eq!(r.pointers(), vec!["/params"], "{rule}");
    }
    let r = app.patch("/api/v1/rules/unusual_order_size", &regulator, json!({"params": {"factor": 2.5}})).await.expect(200);
    assert_eq!(r.body["rule"]["params"]["factor"].to_string(), "2.5");
    assert_eq!(r.body["rule"]["params"]["baseline_months"], 6);
}
