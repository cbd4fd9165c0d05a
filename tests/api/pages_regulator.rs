//! The regulator's pages: a theft at a pharmacy raises a `loss_or_theft` flag; the list
//! counts it by rule and filters it, its page shows the evidence and the balance chart, and
//! the review (dismiss with a reason, comment) goes through the API's command and frame.

use serde_json::json;
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, WebSession, csrf_of, days_ago, field_of};

pub struct TheftWorld {
    pub app: TestApp,
    pub regulator: TestUser,
    pub ministry: TestUser,
    pub pharmacy: Facility,
    pub pharmacist: TestUser,
    pub morphine: i64,
    pub flag_id: i64,
}

/// Kazakhstan: a pharmacy receives 1 000 morphine tablets 5 days ago and reports a theft of
/// 3 tablets 3 days ago; a scan of the last 10 days raises one high `loss_or_theft` flag.
pub async fn theft_world() -> TheftWorld {
    let app = TestApp::spawn().await;
    let regulator = app.regulator("KZ");
    let ministry = app.ministry("KZ");
    let region = app.region("KZ", "Almaty").await;
    app.put(
        &format!("/api/v1/regions/{region}/population"),
        &ministry,
        json!({"year": days_ago(0).format("%Y").to_string().parse::<i32>().unwrap(), "total": 2_000_000}),
    )
    .await
    .expect(200);
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Apteka 7").await;
    let pharmacist = app.facility_user(&pharmacy);
    let morphine = app.product("morphine", "Morphine 10 mg tablet", "10", "tablet", "tablet").await;
    app.stock_up(&pharmacist, pharmacy.id, morphine, 1_000, days_ago(5)).await;
    app.post(
        &format!("/api/v1/facilities/{}/stock-events", pharmacy.id),
        &pharmacist,
        json!({"kind": "theft", "product_id": morphine, "quantity_units": 3, "occurred_at": days_ago(3)}),
    )
    .await
    .expect(201);
    app.scan(&regulator, json!({"country_code": "KZ", "from": days_ago(10).date_naive(), "to": days_ago(0).date_naive()})).await;
    let flags = app.get("/api/v1/flags?rule=loss_or_theft", &regulator).await.expect(200);
    let flag_id = flags.body["flags"][0]["id"].as_i64().expect("a loss_or_theft flag");
    TheftWorld { app, regulator, ministry, pharmacy, pharmacist, morphine, flag_id }
}

#[actix_web::test]
async fn the_flag_list_counts_by_rule_and_filters() {
    let w = theft_world().await;
    let s = WebSession::signed_in(&w.app, &w.regulator).await;
    let page = s.get("/dashboard/flags").await;
    assert_eq!(page.status, 200);
    let html = &page.text;
    assert!(html.contains(&format!("href=\"/dashboard/flags/{}\"", w.flag_id)));
    // The flag is about a place: named, not numbered.
    assert!(html.contains("facility Apteka 7"), "{html}");
    assert!(!html.contains(&format!("facility {}<", w.pharmacy.id)));
    // Counts: loss_or_theft 1 flag, 1 high, 0 medium, 0 low, 1 still open; and the 10 g of
    // morphine received without any estimate for the year: estimate_exceeded, high.
    let counts = "<td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td>";
    assert!(html.contains(&format!("loss_or_theft</a></td>{counts}")), "{html}");
    assert!(html.contains(&format!("estimate_exceeded</a></td>{counts}")), "{html}");
    assert!(html.contains("data-chart=\"counts\" data-points=\"2\""), "{}", &html[html.find("data-chart").unwrap_or(0)..][..60]);
    let csv = s.get("/dashboard/flags.csv?table=counts").await;
    assert_eq!(csv.text, "rule,flags,high,medium,low,open_or_under_review\nestimate_exceeded,1,1,0,0,1\nloss_or_theft,1,1,0,0,1\n");
    // Filters: no low flag; a bad severity is refused naming it.
    let low = s.get("/dashboard/flags?severity=low").await;
    assert!(low.text.contains("0 flags, most severe first"));
    assert!(!low.text.contains(&format!("href=\"/dashboard/flags/{}\"", w.flag_id)));
    let high = s.get("/dashboard/flags?severity=high&status=open&rule=loss_or_theft").await;
    assert!(high.text.contains("1 flags, most severe first"));
    assert!(s.get("/dashboard/flags?severity=high").await.text.contains("2 flags, most severe first"));
    let bad = s.get("/dashboard/flags?severity=extreme").await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("severity"));
    // Rules page: versions, params and mode.
    let rules = s.get("/dashboard/rules").await.text;
    assert!(rules.contains(">loss_or_theft</a></td>") && rules.contains("active"));
}

#[actix_web::test]
async fn a_flag_shows_its_evidence_and_is_dismissed_with_a_reason() {
    let w = theft_world().await;
    let s = WebSession::signed_in(&w.app, &w.regulator).await;
    let path = format!("/dashboard/flags/{}", w.flag_id);
    let page = s.get(&path).await;
    assert_eq!(page.status, 200);
    let html = &page.text;
    assert!(html.contains("<code>theft_units</code></dt><dd>3</dd>"), "{html}");
    assert!(html.contains("facility Apteka 7"), "the subject is named: {html}");
    // The balance: 1 000 after the receipt, 997 after the theft — two steps on the chart.
    assert!(html.contains("data-chart=\"balance\" data-points=\"2\""));
    assert!(html.contains("<td class=\"num\">1,000</td><td class=\"num\">1,000</td>"), "{html}");
    assert!(html.contains("<td class=\"num\">-3</td><td class=\"num\">997</td>"), "{html}");

    // Dismissing without a reason is refused, naming the field; nothing changes.
    let token = csrf_of(html);
    let idem = field_of(html, "idem");
    let r = s.post_form(&format!("{path}/review"), &[("csrf", &token), ("idem", &idem), ("status", "dismissed"), ("note", " ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("/note"));
    let api = w.app.get(&format!("/api/v1/flags/{}", w.flag_id), &w.regulator).await.expect(200);
    assert_eq!(api.body["flag"]["status"], "open");
    // The page checks a reason as the API does: at least 3 characters, no control characters.
    for (reason, api_note) in [("ok", json!("ok")), ("bell\u{7}rang", json!("bell\u{7}rang"))] {
        let r = s.post_form(&format!("{path}/review"), &[("csrf", &token), ("idem", &idem), ("status", "dismissed"), ("note", reason)]).await;
        assert_eq!(r.status, 422, "{reason:?}: {}", r.text);
        assert!(r.text.contains("/note"));
        let refused = w.app.patch(&format!("/api/v1/flags/{}", w.flag_id), &w.regulator, json!({"status": "dismissed", "note": api_note})).await;
        assert_eq!(refused.status, 422, "the API refuses {reason:?} too");
    }
    let api = w.app.get(&format!("/api/v1/flags/{}", w.flag_id), &w.regulator).await.expect(200);
    assert_eq!(api.body["flag"]["status"], "open");

    let fields = [("csrf", token.as_str()), ("idem", idem.as_str()), ("status", "dismissed"), ("note", "Counted again: police report 17/2026")];
    let r = s.post_form(&format!("{path}/review"), &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let api = w.app.get(&format!("/api/v1/flags/{}", w.flag_id), &w.regulator).await.expect(200);
    assert_eq!(api.body["flag"]["status"], "dismissed");
    let events = api.body["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["note"] == "Counted again: police report 17/2026"));
    // A double submission of the same form replays: one audit entry.
    let again = s.post_form(&format!("{path}/review"), &fields).await;
    assert_eq!(again.status, 303);
    let audit = w.app.get("/api/v1/audit-events?action=update_flag", &w.regulator).await.expect(200);
    assert_eq!(audit.body["meta"]["total"], 1, "{}", audit.text);
    let after = s.get(&path).await.text;
    assert!(after.contains("The review was saved.") && after.contains("data-status=\"dismissed\""));

    // A comment with a control character is refused as the API refuses it.
    let r =
        s.post_form(&format!("{path}/comments"), &[("csrf", &token), ("idem", "c0"), ("body", "see\u{1b}[31m"), ("visibility", "official")]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("/body"));
    // A comment, official: the pharmacy sees it on its flag page, without the evidence.
    let r = s
        .post_form(
            &format!("{path}/comments"),
            &[("csrf", &token), ("idem", "c1"), ("body", "Please send the police report."), ("visibility", "official")],
        )
        .await;
    assert_eq!(r.status, 303);
    let p = WebSession::signed_in(&w.app, &w.pharmacist).await;
    let seen = p.get(&path).await;
    assert_eq!(seen.status, 200);
    assert!(seen.text.contains("Please send the police report.") && !seen.text.contains("theft_units") && !seen.text.contains("review-form"));
    // The ministry reads diversion flags as counts only.
    let m = WebSession::signed_in(&w.app, &w.ministry).await;
    assert_eq!(m.get(&path).await.status, 403);
    let _ = w.morphine;
    let _ = w.pharmacy.id;
}
