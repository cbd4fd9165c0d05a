//! The role and scope matrix: every endpoint of the foundation, every role.

use awc::http::Method;
use serde_json::{Value, json};
use tarozi::db::enums::FacilityKind;

use crate::helpers::{Facility, TestApp, TestUser};

/// Roles in the order of the expectation columns below.
const ROLES: [&str; 8] = ["admin", "regulator KZ", "ministry KZ", "wholesaler KZ", "pharmacy KZ", "regional", "regulator KG", "ministry KG"];

/// A KZ region with a pharmacy and a wholesaler, and one user per column of [`ROLES`].
struct Cast {
    app: TestApp,
    almaty: i64,
    pharmacy: Facility,
    wholesaler: Facility,
    users: Vec<TestUser>,
}

async fn cast() -> Cast {
    let app = TestApp::spawn().await;
    let almaty = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(almaty, FacilityKind::Pharmacy, "Pharmacy").await;
    let wholesaler = app.facility(almaty, FacilityKind::Wholesaler, "Wholesaler").await;
    let users = vec![
        app.admin(),
        app.regulator("KZ"),
        app.ministry("KZ"),
        app.facility_user(&wholesaler),
        app.facility_user(&pharmacy),
        app.regional(),
        app.regulator("KG"),
        app.ministry("KG"),
    ];
    Cast { app, almaty, pharmacy, wholesaler, users }
}

#[actix_web::test]
async fn every_endpoint_answers_each_role_within_its_scope() {
    let Cast { app, almaty, pharmacy, users, .. } = cast().await;
    let target = app.ministry("KZ");
    let morphine = app.substance_id("morphine").await;
    let p = pharmacy.id;

    type Body = fn(usize) -> Value;
    let no_body: Option<Body> = None;
    let matrix: Vec<(Method, String, Option<Body>, [u16; 8])> = vec![
        (Method::GET, "/api/v1/auth/me".into(), no_body, [200, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/v1/users".into(), no_body, [200, 403, 403, 403, 403, 403, 403, 403]),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(|i| json!({"username": format!("new.user{i}"), "password": "a-long-password-1", "role": "ministry", "country_code": "KZ"})),
            [201, 403, 403, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/substances".into(), no_body, [200; 8]),
        (
            Method::POST,
            "/api/v1/substances".into(),
            Some(
                |i| json!({"inn": format!("substance {}", ["a", "b", "c", "d", "e", "f", "g", "h"][i]), "convention": "none", "sddd_status": "n/a", "source": "test source"}),
            ),
            [201, 403, 403, 403, 403, 403, 403, 403],
        ),
        (
            Method::PATCH,
            format!("/api/v1/substances/{morphine}"),
            Some(|_| json!({"notes": "checked", "source": "test source"})),
            [200, 403, 403, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/products".into(), no_body, [200; 8]),
        (Method::GET, "/api/v1/countries".into(), no_body, [200; 8]),
        (Method::GET, "/api/v1/countries/KZ/regions".into(), no_body, [200; 8]),
        (
            Method::POST,
            "/api/v1/regions".into(),
            Some(|i| json!({"country_code": "KZ", "name": format!("Region {i}")})),
            [201, 201, 201, 403, 403, 403, 403, 403],
        ),
        (
            Method::PUT,
            format!("/api/v1/regions/{almaty}/population"),
            Some(|_| json!({"year": 2026, "total": 2200000})),
            [200, 200, 200, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/facilities".into(), no_body, [200, 200, 200, 200, 200, 403, 200, 200]),
        (Method::GET, format!("/api/v1/facilities/{p}"), no_body, [200, 200, 200, 403, 200, 403, 403, 403]),
        (Method::POST, "/api/v1/facilities".into(), None, [201, 201, 403, 403, 403, 403, 403, 403]),
        (Method::PATCH, format!("/api/v1/facilities/{p}"), Some(|_| json!({"name": "Renamed pharmacy"})), [200, 200, 403, 403, 403, 403, 403, 403]),
        (Method::GET, "/api/v1/audit-events".into(), no_body, [200, 200, 403, 403, 403, 403, 200, 403]),
        (Method::GET, "/api/v1/api-keys".into(), no_body, [200, 200, 403, 403, 403, 403, 200, 403]),
        (Method::POST, "/api/v1/api-keys".into(), None, [201, 201, 403, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/users/{}/deactivation", target.id), no_body, [200, 403, 403, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/users/{}/activation", target.id), no_body, [200, 403, 403, 403, 403, 403, 403, 403]),
        (
            Method::POST,
            format!("/api/v1/users/{}/password-reset", target.id),
            Some(|_| json!({"new_password": "a-temporary-password"})),
            [200, 403, 403, 403, 403, 403, 403, 403],
        ),
    ];

    for (method, path, body, expected) in matrix {
        for (i, user) in users.iter().enumerate() {
            let body = match (&body, path.as_str()) {
                (Some(f), _) => Some(f(i)),
                (None, "/api/v1/facilities") if method == Method::POST => Some(json!({
                    "name": format!("F{i}"), "kind": "pharmacy", "licence_number": format!("KZ-{i}"),
                    "licence_valid_until": "2030-01-01", "region_id": almaty
                })),
                (None, "/api/v1/api-keys") if method == Method::POST => Some(json!({"name": format!("key {i}"), "facility_id": p})),
                _ => None,
            };
            let r = app.request(method.clone(), &path, Some(&user.token), body.as_ref()).await;
            assert_eq!(r.status, expected[i], "{method} {path} as {}: {}", ROLES[i], r.text);
            if r.status == 403 {
                assert_eq!(r.code(), "forbidden");
            }
        }
        let anonymous = app.request(method.clone(), &path, None, None).await;
        assert_eq!(anonymous.status, 401, "{method} {path} without a token");
    }
}

/// The read endpoints of the supply chain, dispensing, analytics and flags, every role.
#[actix_web::test]
async fn every_read_endpoint_answers_each_role_within_its_scope() {
    let Cast { app, pharmacy, wholesaler, users, .. } = cast().await;
    let morphine = app.substance_id("morphine").await;
    let (p, w) = (pharmacy.id, wholesaler.id);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    // KZ for everyone: admin names it, KG users are refused it.
    let matrix: Vec<(String, [u16; 8])> = vec![
        ("/api/v1/estimates?country=KZ".into(), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/import-authorizations?country=KZ".into(), [200, 200, 403, 200, 403, 403, 403, 403]),
        ("/api/v1/transfers?country=KZ".into(), [200, 200, 403, 200, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/stock-events"), [200, 200, 403, 403, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{w}/stock-events"), [200, 200, 403, 200, 403, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/stock"), [200, 200, 200, 403, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/dispensings"), [200, 200, 403, 403, 200, 403, 403, 403]),
        (format!("/api/v1/reporting-periods?country=KZ&period={month}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/availability?country=KZ&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/consumption?country=KZ&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/estimates?country=KZ&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/estimate-proposal?country=KZ&substance_id={morphine}&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/analytics/stock-outs?country=KZ".into(), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/mass-balance?country=KZ&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/regional?year={year}"), [200, 200, 200, 403, 403, 200, 200, 200]),
        ("/api/v1/analytics/adequacy-bands".into(), [200, 200, 200, 403, 403, 200, 200, 200]),
        ("/api/v1/analytics/parameters".into(), [200, 200, 200, 403, 403, 403, 200, 200]),
        (format!("/api/v1/reports/incb/form-c?country=KZ&year={year}"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/reports/incb/form-a?country=KZ&year={year}&quarter=1"), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/flags?country=KZ".into(), [200, 200, 200, 200, 200, 403, 403, 403]),
        ("/api/v1/rules?country=KZ".into(), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/dispensings?country=KZ&prescriber_id=DOC-1".into(), [200, 200, 403, 403, 403, 403, 403, 403]),
    ];
    for (path, expected) in matrix {
        for (i, user) in users.iter().enumerate() {
            let r = app.request(Method::GET, &path, Some(&user.token), None).await;
            assert_eq!(r.status, expected[i], "GET {path} as {}: {}", ROLES[i], r.text);
        }
        assert_eq!(app.request(Method::GET, &path, None, None).await.status, 401, "GET {path} without a token");
    }
}
