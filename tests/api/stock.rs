use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser, days_ago};

struct Pharmacy {
    app: TestApp,
    facility: Facility,
    user: TestUser,
    product: i64,
}

async fn pharmacy() -> Pharmacy {
    let app = TestApp::spawn().await;
    let almaty = app.region("KZ", "Almaty").await;
    let facility = app.facility(almaty, FacilityKind::Pharmacy, "Dari-Darmek 4").await;
    let user = app.facility_user(&facility);
    let product = app.product("fentanyl", "Fentanyl 12 mcg/h patch", "2.0625", "transdermal_patch", "patch").await;
    Pharmacy { app, facility, user, product }
}

impl Pharmacy {
    fn events_path(&self) -> String {
        format!("/api/v1/facilities/{}/stock-events", self.facility.id)
    }

    async fn event(&self, kind: &str, units: i64, at: chrono::DateTime<chrono::Utc>) -> crate::helpers::TestResponse {
        self.app
            .post(&self.events_path(), &self.user, json!({"kind": kind, "product_id": self.product, "quantity_units": units, "occurred_at": at}))
            .await
    }

    fn refused(&self) -> i64 {
        use tarozi::db::schema::refused_attempts as ra;
        ra::table.filter(ra::facility_id.eq(self.facility.id)).count().get_result(&mut self.app.conn()).unwrap()
    }
}

#[actix_web::test]
async fn a_backdated_debit_that_would_break_a_later_balance_is_refused_and_recorded() {
    let p = pharmacy().await;
    p.event("receipt", 10, days_ago(5)).await.expect(201);
    let r = p.event("destruction", 4, days_ago(3)).await.expect(201);
    assert_eq!(r.body["stock_event"]["balance_after_units"], 6);
    // A loss of 7 on day 4 leaves 3 then, but day 3 would fall to -1.
    let refused = p.event("loss", 7, days_ago(4)).await.expect(409);
    assert_eq!(refused.code(), "insufficient_stock");
    assert_eq!(refused.body["balance_at_time_units"], 10);
    assert_eq!(refused.body["shortfall_units"], 1);
    assert_eq!(p.refused(), 1);
    // Six on day 4 is possible: 10 → 4 → 0.
    let ok = p.event("loss", 6, days_ago(4)).await.expect(201);
    assert_eq!(ok.body["stock_event"]["balance_after_units"], 4);
    assert_eq!(p.app.balance(&p.user, p.facility.id, p.product).await, 0);
    p.event("theft", 1, days_ago(1)).await.expect(409);
    assert_eq!(p.refused(), 2);

    // The ledger lists every entry with the balance after it, newest first.
    let ledger = p.app.get(&p.events_path(), &p.user).await.expect(200);
    let rows: Vec<(String, i64, i64)> = ledger.body["stock_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["delta_units"].as_i64().unwrap(), e["balance_after_units"].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, vec![("destruction".into(), -4, 0), ("loss".into(), -6, 4), ("receipt".into(), 10, 10)]);
    let losses = p.app.get(&format!("{}?kind=loss", p.events_path()), &p.user).await.expect(200);
    assert_eq!(losses.body["meta"]["total"], 1);
    assert_eq!(losses.body["stock_events"][0]["balance_after_units"], 4, "filtering keeps the running balance");
}

#[actix_web::test]
async fn business_times_outside_the_backdating_window_or_in_the_future_are_refused() {
    let p = pharmacy().await;
    let old = p.event("receipt", 1, days_ago(31)).await.expect(422);
    assert_eq!(old.pointers(), vec!["/occurred_at"]);
    let future = p.event("receipt", 1, chrono::Utc::now() + chrono::Duration::hours(2)).await.expect(422);
    assert_eq!(future.pointers(), vec!["/occurred_at"]);
    let r = p.event("receipt", 0, days_ago(1)).await.expect(422);
    assert_eq!(r.pointers(), vec!["/quantity_units"]);
    let r = p.event("loss", -3, days_ago(1)).await.expect(422);
    assert_eq!(r.pointers(), vec!["/quantity_units"]);
    let r = p.event("dispense", 1, days_ago(1)).await.expect(422);
    assert_eq!(r.pointers(), vec!["/kind"], "dispensing has its own endpoint");
    let r = p
        .app
        .post(&p.events_path(), &p.user, json!({"kind": "adjustment", "product_id": p.product, "quantity_units": -1, "occurred_at": days_ago(1)}))
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/reason"]);
}

#[actix_web::test]
async fn balances_are_reported_in_units_and_exact_milligrams_of_base() {
    let p = pharmacy().await;
    p.event("receipt", 3, days_ago(1)).await.expect(201);
    let r = p.app.get(&format!("/api/v1/facilities/{}/stock", p.facility.id), &p.user).await.expect(200);
    assert_eq!(r.body["stock"][0]["balance_units"], 3);
    assert_eq!(r.body["stock"][0]["balance_mg_base"].to_string(), "6.1875");
    let adj = p
        .app
        .post(&p.events_path(), &p.user, json!({"kind": "adjustment", "product_id": p.product, "quantity_units": -3, "occurred_at": days_ago(0), "reason": "found broken in the safe"}))
        .await
        .expect(201);
    assert_eq!(adj.body["stock_event"]["delta_units"], -3);
    let r = p.app.get(&format!("/api/v1/facilities/{}/stock", p.facility.id), &p.user).await.expect(200);
    assert!(r.body["stock"][0]["zero_since"].is_string(), "a stock-out shows since when");
}

#[actix_web::test]
async fn a_reversal_compensates_once_and_never_drives_stock_negative() {
    let p = pharmacy().await;
    let receipt = p.event("receipt", 10, days_ago(5)).await.expect(201).body["stock_event"]["id"].as_i64().unwrap();
    let loss = p.event("loss", 3, days_ago(4)).await.expect(201).body["stock_event"]["id"].as_i64().unwrap();
    let r = p.app.post(&format!("/api/v1/stock-events/{loss}/reversal"), &p.user, json!({"reason": "ampoules found"})).await.expect(201);
    assert_eq!(r.body["stock_event"]["kind"], "reversal");
    assert_eq!(r.body["stock_event"]["delta_units"], 3);
    assert_eq!(r.body["stock_event"]["reverses_entry_id"], loss);
    assert_eq!(p.app.balance(&p.user, p.facility.id, p.product).await, 10);
    let again = p.app.post(&format!("/api/v1/stock-events/{loss}/reversal"), &p.user, json!({"reason": "ampoules found"})).await.expect(409);
    assert_eq!(again.code(), "already_reversed");

    p.event("destruction", 8, days_ago(2)).await.expect(201);
    // Undoing the receipt would leave -8 after the destruction.
    let refused = p.app.post(&format!("/api/v1/stock-events/{receipt}/reversal"), &p.user, json!({"reason": "entered twice"})).await.expect(409);
    assert_eq!(refused.code(), "insufficient_stock");
    assert_eq!(p.refused(), 1);
    let reversal_id = r.body["stock_event"]["id"].as_i64().unwrap();
    let r = p.app.post(&format!("/api/v1/stock-events/{reversal_id}/reversal"), &p.user, json!({"reason": "undo the undo"})).await.expect(422);
    assert_eq!(r.code(), "not_reversible");
    // Nothing was deleted or updated: the ledger holds all four entries.
    let ledger = p.app.get(&p.events_path(), &p.user).await.expect(200);
    assert_eq!(ledger.body["meta"]["total"], 4);
    let other = p.app.facility(p.app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "Other").await;
    p.app.post(&format!("/api/v1/stock-events/{loss}/reversal"), &p.app.facility_user(&other), json!({"reason": "not mine"})).await.expect(403);
}

#[actix_web::test]
async fn an_inventory_count_books_its_variance_as_an_adjustment() {
    let p = pharmacy().await;
    p.event("receipt", 20, days_ago(6)).await.expect(201);
    p.event("destruction", 5, days_ago(2)).await.expect(201);
    let path = format!("/api/v1/facilities/{}/inventory-counts", p.facility.id);
    // Counted on day 4, before the destruction: the book said 20, the shelf 18.
    let r = p
        .app
        .post(&path, &p.user, json!({"product_id": p.product, "counted_units": 18, "counted_at": days_ago(4), "reason": "two patches missing"}))
        .await
        .expect(201);
    assert_eq!(r.body["inventory_count"]["expected_units"], 20);
    assert_eq!(r.body["inventory_count"]["variance_units"], -2);
    assert_eq!(r.body["stock_event"]["kind"], "count_adjustment");
    assert_eq!(r.body["stock_event"]["balance_after_units"], 18);
    assert_eq!(p.app.balance(&p.user, p.facility.id, p.product).await, 13);
    let same = p.app.post(&path, &p.user, json!({"product_id": p.product, "counted_units": 13, "counted_at": days_ago(0)})).await.expect(201);
    assert_eq!(same.body["inventory_count"]["variance_units"], 0);
    assert!(same.body["stock_event"].is_null());
    // A count that would make a later balance negative is refused: the destruction of 5
    // on day 2 could not have happened from 3 units.
    p.app.post(&path, &p.user, json!({"product_id": p.product, "counted_units": 3, "counted_at": days_ago(3)})).await.expect(409);
    use tarozi::db::schema::inventory_counts as ic;
    let counts: i64 = ic::table.count().get_result(&mut p.app.conn()).unwrap();
    assert_eq!(counts, 2, "the refused count left no row");
}

#[actix_web::test]
async fn a_retried_stock_event_with_its_key_is_written_once() {
    let p = pharmacy().await;
    let body = json!({"kind": "receipt", "product_id": p.product, "quantity_units": 5, "occurred_at": days_ago(1)});
    let headers = [("Idempotency-Key", "receipt-2026-11-27-1")];
    let first = p.app.request_with(Method::POST, &p.events_path(), Some(&p.user.token), Some(&body), &headers).await.expect(201);
    let second = p.app.request_with(Method::POST, &p.events_path(), Some(&p.user.token), Some(&body), &headers).await.expect(201);
    assert_eq!(first.body, second.body);
    assert_eq!(p.app.balance(&p.user, p.facility.id, p.product).await, 5);
    // A replayed refusal answers the same and records no second attempt.
    let over = json!({"kind": "theft", "product_id": p.product, "quantity_units": 6, "occurred_at": days_ago(0)});
    let h2 = [("Idempotency-Key", "theft-1")];
    p.app.request_with(Method::POST, &p.events_path(), Some(&p.user.token), Some(&over), &h2).await.expect(409);
    p.app.request_with(Method::POST, &p.events_path(), Some(&p.user.token), Some(&over), &h2).await.expect(409);
    assert_eq!(p.refused(), 1);
}

#[actix_web::test]
async fn twenty_concurrent_writers_cannot_oversell_the_last_units() {
    let p = pharmacy().await;
    p.event("receipt", 5, days_ago(2)).await.expect(201);
    let body: Value = json!({"kind": "destruction", "product_id": p.product, "quantity_units": 1, "occurred_at": days_ago(1)});
    let path = p.events_path();
    let requests = (0..20).map(|_| p.app.request(Method::POST, &path, Some(&p.user.token), Some(&body)));
    let responses = futures_util::future::join_all(requests).await;
    let created = responses.iter().filter(|r| r.status == 201).count();
    let refused = responses.iter().filter(|r| r.status == 409 && r.code() == "insufficient_stock").count();
    assert_eq!((created, refused), (5, 15), "{:?}", responses.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(p.app.balance(&p.user, p.facility.id, p.product).await, 0);
    assert_eq!(p.refused(), 15);
}

#[actix_web::test]
async fn the_ledger_is_reachable_only_within_scope() {
    let p = pharmacy().await;
    p.event("receipt", 5, days_ago(2)).await.expect(201);
    let app = &p.app;
    let other = app.facility(app.region("KZ", "Astana").await, FacilityKind::Pharmacy, "Other").await;
    let other_user = app.facility_user(&other);
    let stock = format!("/api/v1/facilities/{}/stock", p.facility.id);
    let counts = format!("/api/v1/facilities/{}/inventory-counts", p.facility.id);
    app.post(&p.events_path(), &other_user, json!({"kind": "receipt", "product_id": p.product, "quantity_units": 1, "occurred_at": days_ago(0)}))
        .await
        .expect(403);
    app.post(&counts, &other_user, json!({"product_id": p.product, "counted_units": 1, "counted_at": days_ago(0)})).await.expect(403);
    app.get(&p.events_path(), &other_user).await.expect(403);
    app.get(&stock, &other_user).await.expect(403);
    let regulator = app.regulator("KZ");
    app.get(&p.events_path(), &regulator).await.expect(200);
    app.post(&p.events_path(), &regulator, json!({"kind": "receipt", "product_id": p.product, "quantity_units": 1, "occurred_at": days_ago(0)}))
        .await
        .expect(403);
    app.get(&stock, &app.ministry("KZ")).await.expect(200);
    app.get(&p.events_path(), &app.ministry("KZ")).await.expect(403);
    app.get(&stock, &app.regulator("UZ")).await.expect(403);
    app.get(&stock, &app.regional()).await.expect(403);
}
