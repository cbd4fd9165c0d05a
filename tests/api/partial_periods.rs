//! A period in progress says so (issue 13, point 2): availability and consumption are
//! `partial` with the days counted so far, per-capita figures come annualised beside the
//! period's, bands are judged on the rate per day; INCB forms for a period not yet over are
//! `provisional` with their `as_of` date and never label today's stock as 31 December.
//!
//! Kyrgyzstan (Asia/Bishkek, UTC+6), one region of 1 000 000 people. "Today" is the country's
//! today, read from the clock as the server does; every figure below follows from it by the
//! arithmetic in the comments.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::json;
use tarozi::db::enums::FacilityKind;
use tarozi::domain::period::{today_in, zone};

use crate::helpers::{TestApp, TestUser, figure, test_settings};

fn today_in_bishkek() -> NaiveDate {
    today_in(zone("Asia/Bishkek").unwrap(), Utc::now())
}

/// One minute past midnight in Bishkek on `day` (never in the future when `day` is today).
fn just_after_midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    tarozi::domain::period::local_midnight(zone("Asia/Bishkek").unwrap(), day) + Duration::minutes(1)
}

struct World {
    app: TestApp,
    ministry: TestUser,
    pharmacy: crate::helpers::Facility,
    morphine: i64,
}

/// A pharmacy receives 1 000 000 morphine 10 mg tablets (10 000 000 mg of base) 50 days ago
/// (or on 1 January, whichever is later: in this year and in the last 100 days); a wholesaler
/// has held 1 000 tablets (10 g) since 1 June 2025.
async fn world() -> World {
    let mut settings = test_settings();
    settings.backdate_days = 2000;
    let app = TestApp::spawn_with(settings).await;
    let ministry = app.ministry("KG");
    let region = app.region("KG", "Chui").await;
    let today = today_in_bishkek();
    for year in [2025, today.year() - 1, today.year()] {
        app.put(&format!("/api/v1/regions/{region}/population"), &ministry, json!({"year": year, "total": 1_000_000})).await.expect(200);
    }
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Chui pharmacy").await;
    let wholesaler = app.facility(region, FacilityKind::Wholesaler, "Chui wholesaler").await;
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    let june = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    app.stock_up(&app.facility_user(&wholesaler), wholesaler.id, morphine, 1000, just_after_midnight(june)).await;
    let received = (today - Duration::days(50)).max(NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap());
    app.stock_up(&app.facility_user(&pharmacy), pharmacy.id, morphine, 1_000_000, just_after_midnight(received)).await;
    World { app, ministry, pharmacy, morphine }
}

#[actix_web::test]
async fn a_period_in_progress_is_partial_counts_its_days_so_far_and_annualises_per_capita_figures() {
    let w = world().await;
    let today = today_in_bishkek();
    // A period of 130 days ending 30 days from now: 100 days have happened (today included).
    let (from, to) = (today - Duration::days(99), today + Duration::days(30));
    let r = w.app.get(&format!("/api/v1/analytics/availability?from={from}&to={to}"), &w.ministry).await.expect(200);
    let b = &r.body;
    assert_eq!(b["partial"], true);
    assert_eq!(b["period"], json!({"from": from.to_string(), "to": today.to_string(), "days": 100}));
    // ME per capita over the 100 days: 10 000 000 mg × 1.0 ÷ 1 000 000 = 10 mg.
    assert_eq!(figure(&b["total"]["me_mg_per_capita"]), "10");
    // Annualised: 10 × 365 ÷ 100 = 36.5 mg a year (× 366 ÷ 100 = 36.6 when `from` is in a
    // leap year).
    let leap = NaiveDate::from_ymd_opt(from.year(), 2, 29).is_some();
    assert_eq!(figure(&b["total"]["me_mg_per_capita_per_year"]), if leap { "36.6" } else { "36.5" });
    // S-DDD: 10 000 000 mg ÷ 100 mg = 100 000 S-DDD ÷ 100 days ÷ 1 (million) = 1 000 per
    // million per day: `adequate` (≥ 1 000). Spread over a whole year it would read 273.97,
    // `moderate`: the band is of the rate per day of the days counted.
    assert_eq!(figure(&b["total"]["sddd_per_million_per_day"]), "1000");
    assert_eq!(b["total"]["band"], "adequate");
    assert_eq!(
        b["band_basis"],
        json!({"metric": "sddd_per_million_per_day", "days": 100, "year_days": if leap { 366 } else { 365 }, "annualised": true})
    );

    // The current year: partial, counted from 1 January to today (day-of-year days).
    let year = today.year();
    let r = w.app.get(&format!("/api/v1/analytics/availability?year={year}"), &w.ministry).await.expect(200);
    assert_eq!(r.body["partial"], true);
    assert_eq!(r.body["period"]["to"], json!(today.to_string()));
    assert_eq!(r.body["period"]["days"], json!(today.ordinal()));
    let r = w.app.get(&format!("/api/v1/analytics/consumption?year={year}"), &w.ministry).await.expect(200);
    assert_eq!((r.body["partial"].clone(), r.body["period"]["days"].clone()), (json!(true), json!(today.ordinal())));

    // A year that is over is not partial and its per-year figure is its own: the pharmacy's
    // 36 500 tablets of 1 July 2025 are 365 000 mg ÷ 1 000 000 people = 0.365 mg both ways.
    let july = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    w.app.stock_up(&w.app.facility_user(&w.pharmacy), w.pharmacy.id, w.morphine, 36_500, just_after_midnight(july)).await;
    let r = w.app.get("/api/v1/analytics/availability?year=2025", &w.ministry).await.expect(200);
    assert_eq!(r.body["partial"], false);
    assert_eq!(r.body["period"]["days"], 365);
    assert_eq!(figure(&r.body["total"]["me_mg_per_capita"]), "0.365");
    assert_eq!(figure(&r.body["total"]["me_mg_per_capita_per_year"]), "0.365");
    let r = w.app.get("/api/v1/analytics/consumption?year=2025", &w.ministry).await.expect(200);
    assert_eq!(r.body["partial"], false);
}

#[actix_web::test]
async fn form_c_and_form_a_of_a_period_not_over_are_provisional_as_of_today() {
    let w = world().await;
    let today = today_in_bishkek();
    let year = today.year();

    // 2025 is over: stocks at 31 December are the wholesaler's 1 000 × 10 mg = 10 g.
    let c = w.app.get("/api/v1/reports/incb/form-c?year=2025", &w.ministry).await.expect(200);
    assert_eq!((c.body["provisional"].clone(), c.body["as_of"].clone()), (json!(false), json!("2025-12-31")));
    let line = &c.body["lines"][0];
    assert_eq!(line["stocks_31_december"], json!({"kg": 0, "g": 10, "total_g": 10}));
    assert_eq!(line["stocks_as_of"], line["stocks_31_december"]);
    let csv = w.app.get("/api/v1/reports/incb/form-c?year=2025&format=csv", &w.ministry).await.expect(200);
    assert!(csv.text.starts_with("country,year,substance,consumed_kg,consumed_g,stock_31_december_kg"), "{}", csv.text);

    // This year is not: figures to today, the wholesaler's stock held today (10 g), no
    // "31 December" stock; consumption 10 000 000 mg = 10 kg 0 g.
    let c = w.app.get(&format!("/api/v1/reports/incb/form-c?year={year}"), &w.ministry).await.expect(200);
    assert_eq!((c.body["provisional"].clone(), c.body["as_of"].clone()), (json!(true), json!(today.to_string())));
    let line = &c.body["lines"][0];
    assert_eq!(line["inn"], "morphine");
    assert!(line["stocks_31_december"].is_null(), "{}", c.text);
    assert_eq!(line["stocks_as_of"], json!({"kg": 0, "g": 10, "total_g": 10}));
    assert_eq!(line["consumed"], json!({"kg": 10, "g": 0, "total_g": 10000}));
    let csv = w.app.get(&format!("/api/v1/reports/incb/form-c?year={year}&format=csv"), &w.ministry).await.expect(200);
    let mut lines = csv.text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("# provisional: the year {year} is not over; figures to {today}; stocks are those held on {today}, not at 31 December")
    );
    assert_eq!(
        lines.next().unwrap(),
        "country,year,substance,consumed_kg,consumed_g,stock_as_of_kg,stock_as_of_g,imported_kg,imported_g,exported_kg,exported_g"
    );
    assert_eq!(lines.next().unwrap(), format!("KG,{year},morphine,10,0,0,10,0,0,0,0"));

    // Form A: the current quarter is provisional as of today; the first quarter of 2025 is not.
    let quarter = (today.month() - 1) / 3 + 1;
    let a = w.app.get(&format!("/api/v1/reports/incb/form-a?year={year}&quarter={quarter}"), &w.ministry).await.expect(200);
    assert_eq!((a.body["provisional"].clone(), a.body["as_of"].clone()), (json!(true), json!(today.to_string())));
    let csv = w.app.get(&format!("/api/v1/reports/incb/form-a?year={year}&quarter={quarter}&format=csv"), &w.ministry).await.expect(200);
    assert_eq!(csv.text.lines().next().unwrap(), format!("# provisional: quarter {quarter} of {year} is not over; figures to {today}"));
    let a = w.app.get("/api/v1/reports/incb/form-a?year=2025&quarter=1", &w.ministry).await.expect(200);
    assert_eq!((a.body["provisional"].clone(), a.body["as_of"].clone()), (json!(false), json!("2025-03-31")));
}
