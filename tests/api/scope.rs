//! The role and scope matrix: every endpoint, every role. Each expectation is derived from
//! the authorization policy (`tarozi::app::policy::POLICY`) for the operation the served
//! document names for the request, and checked against the matrix as written down.

use awc::http::Method;
use serde_json::{Value, json};
use tarozi::app::policy::{self, Scope};
use tarozi::db::enums::{FacilityKind, Role};
use tarozi::operations::PathTable;

use crate::helpers::{Facility, TestApp, TestUser};

/// Roles in the order of the expectation columns below.
const ROLES: [&str; 8] = ["admin", "regulator KZ", "ministry KZ", "wholesaler KZ", "pharmacy KZ", "regional", "regulator KG", "ministry KG"];

/// What a request is about, for the scope of a grant.
#[derive(Clone, Copy)]
enum Target {
    /// No one country or facility (reference lists, one's own account, cross-border views).
    Anything,
    Country(&'static str),
    /// A facility of KZ (its id).
    Facility(i64),
}

/// The account of a column of [`ROLES`]: role, country and facility.
struct Column {
    role: Role,
    country: Option<&'static str>,
    facility: Option<i64>,
}

fn columns(wholesaler: i64, pharmacy: i64) -> [Column; 8] {
    let c = |role, country, facility| Column { role, country, facility };
    [
        c(Role::Admin, None, None),
        c(Role::Regulator, Some("KZ"), None),
        c(Role::Ministry, Some("KZ"), None),
        c(Role::Wholesaler, Some("KZ"), Some(wholesaler)),
        c(Role::Pharmacy, Some("KZ"), Some(pharmacy)),
        c(Role::Regional, None, None),
        c(Role::Regulator, Some("KG"), None),
        c(Role::Ministry, Some("KG"), None),
    ]
}

/// The operation `method path` is, according to the served document.
fn operation(table: &PathTable, method: &Method, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    table.resolve(method.as_str(), path).unwrap_or_else(|| panic!("{method} {path} is no operation of the document")).to_owned()
}

/// The status the policy promises `column` for the operation on `target`: `success` within
/// the grant's scope, 403 outside it or without a grant.
fn derived(operation: &str, column: &Column, target: Target, success: u16) -> u16 {
    let access = policy::access_of(operation).unwrap_or_else(|| panic!("{operation} has no entry in the policy"));
    let within = match (access.scope_of(column.role), target) {
        (None, _) => false,
        (Some(Scope::Any), _) | (Some(_), Target::Anything) => true,
        (Some(Scope::OwnCountry | Scope::OwnFacility), Target::Country(c)) => column.country == Some(c),
        (Some(Scope::OwnCountry), Target::Facility(_)) => column.country == Some("KZ"),
        (Some(Scope::OwnFacility), Target::Facility(id)) => column.facility == Some(id),
    };
    if within { success } else { 403 }
}

/// The expectations of a row: derived from the policy, and equal to the matrix as written.
fn expectations(table: &PathTable, method: &Method, path: &str, target: Target, written: [u16; 8], columns: &[Column; 8]) -> [u16; 8] {
    let op = operation(table, method, path);
    let success = written.iter().copied().find(|s| *s != 403).unwrap_or(200);
    let derived: Vec<u16> = columns.iter().map(|c| derived(&op, c, target, success)).collect();
    assert_eq!(derived, written, "{method} {path} ({op}): the policy and the matrix disagree");
    written
}

#[actix_web::test]
async fn every_operation_of_the_served_document_has_an_entry_in_the_policy() {
    let app = TestApp::spawn().await;
    let spec: Value = app.request(Method::GET, "/openapi.json", None, None).await.body;
    let mut missing = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str()
                && policy::access_of(id).is_none()
            {
                missing.push(format!("{method} {path} ({id})"));
            }
        }
    }
    assert!(missing.is_empty(), "operations without a policy entry: {missing:?}");
}

#[actix_web::test]
async fn a_caller_without_the_permission_is_refused_before_its_body_or_query_is_read() {
    let Cast { app, users, .. } = cast().await;
    let pharmacy = &users[4];
    // An invalid user body (no password, unknown role) from a pharmacy: 403, not 422.
    let r = app.request(Method::POST, "/api/v1/users", Some(&pharmacy.token), Some(&json!({"username": "", "role": "nobody"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "forbidden");
    // Not JSON at all.
    let r = app.send_raw(Method::POST, "/api/v1/substances", Some(&pharmacy.token), "text/plain", "inn=x").await;
    assert_eq!(r.status, 403, "{}", r.text);
    // A malformed query on a report the role may not read.
    let r = app.request(Method::GET, "/api/v1/analytics/availability?country=KZ&year=notayear", Some(&pharmacy.token), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "forbidden");
    // The same mistakes by callers who may: 422 and 415 name what is wrong.
    let admin = &users[0];
    let r = app.request(Method::POST, "/api/v1/users", Some(&admin.token), Some(&json!({"username": "", "role": "nobody"}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app.request(Method::GET, "/api/v1/analytics/availability?country=KZ&year=notayear", Some(&users[1].token), None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    // Without a token: 401 before anything else.
    let r = app.request(Method::POST, "/api/v1/users", None, Some(&json!({"username": ""}))).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

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
    let Cast { app, almaty, pharmacy, wholesaler, users } = cast().await;
    let table = PathTable::from_spec(&tarozi::openapi::spec());
    let columns = columns(wholesaler.id, pharmacy.id);
    let target = app.ministry("KZ");
    let morphine = app.substance_id("morphine").await;
    let p = pharmacy.id;

    type Body = fn(usize) -> Value;
    let no_body: Option<Body> = None;
    use Target::{Anything, Country, Facility as At};
    type Row = (Method, String, Option<Body>, Target, [u16; 8]);
    let matrix: Vec<Row> = vec![
        (Method::GET, "/api/v1/auth/me".into(), no_body, Anything, [200, 200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/v1/users".into(), no_body, Anything, [200, 403, 403, 403, 403, 403, 403, 403]),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(|i| json!({"username": format!("new.user{i}"), "password": "a-long-password-1", "role": "ministry", "country_code": "KZ"})),
            Anything,
            [201, 403, 403, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/substances".into(), no_body, Anything, [200; 8]),
        (
            Method::POST,
            "/api/v1/substances".into(),
            Some(
                |i| json!({"inn": format!("substance {}", ["a", "b", "c", "d", "e", "f", "g", "h"][i]), "convention": "none", "sddd_status": "n/a", "source": "test source"}),
            ),
            Anything,
            [201, 403, 403, 403, 403, 403, 403, 403],
        ),
        (
            Method::PATCH,
            format!("/api/v1/substances/{morphine}"),
            Some(|_| json!({"notes": "checked", "source": "test source"})),
            Anything,
            [200, 403, 403, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/products".into(), no_body, Anything, [200; 8]),
        (Method::GET, "/api/v1/countries".into(), no_body, Anything, [200; 8]),
        (Method::GET, "/api/v1/countries/KZ/regions".into(), no_body, Anything, [200; 8]),
        (
            Method::POST,
            "/api/v1/regions".into(),
            Some(|i| json!({"country_code": "KZ", "name": format!("Region {i}")})),
            Country("KZ"),
            [201, 201, 201, 403, 403, 403, 403, 403],
        ),
        (
            Method::PUT,
            format!("/api/v1/regions/{almaty}/population"),
            Some(|_| json!({"year": 2026, "total": 2200000})),
            Country("KZ"),
            [200, 200, 200, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/facilities".into(), no_body, Anything, [200, 200, 200, 200, 200, 403, 200, 200]),
        (Method::GET, format!("/api/v1/facilities/{p}"), no_body, At(p), [200, 200, 200, 403, 200, 403, 403, 403]),
        (Method::POST, "/api/v1/facilities".into(), None, Country("KZ"), [201, 201, 403, 403, 403, 403, 403, 403]),
        (
            Method::PATCH,
            format!("/api/v1/facilities/{p}"),
            Some(|_| json!({"name": "Renamed pharmacy"})),
            At(p),
            [200, 200, 403, 403, 403, 403, 403, 403],
        ),
        (Method::GET, "/api/v1/audit-events".into(), no_body, Anything, [200, 200, 403, 403, 403, 403, 200, 403]),
        (Method::GET, "/api/v1/api-keys".into(), no_body, Anything, [200, 200, 403, 403, 403, 403, 200, 403]),
        (Method::POST, "/api/v1/api-keys".into(), None, At(p), [201, 201, 403, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/users/{}/deactivation", target.id), no_body, Anything, [200, 403, 403, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/api/v1/users/{}/activation", target.id), no_body, Anything, [200, 403, 403, 403, 403, 403, 403, 403]),
        (
            Method::POST,
            format!("/api/v1/users/{}/password-reset", target.id),
            Some(|_| json!({"new_password": "a-temporary-password"})),
            Anything,
            [200, 403, 403, 403, 403, 403, 403, 403],
        ),
    ];

    for (method, path, body, target, written) in matrix {
        let expected = expectations(&table, &method, &path, target, written, &columns);
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
    let table = PathTable::from_spec(&tarozi::openapi::spec());
    let columns = columns(wholesaler.id, pharmacy.id);
    use Target::{Anything, Country, Facility as At};
    let morphine = app.substance_id("morphine").await;
    let (p, w) = (pharmacy.id, wholesaler.id);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    // KZ for everyone: admin names it, KG users are refused it.
    let matrix: Vec<(String, Target, [u16; 8])> = vec![
        ("/api/v1/estimates?country=KZ".into(), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/import-authorizations?country=KZ".into(), Country("KZ"), [200, 200, 403, 200, 403, 403, 403, 403]),
        ("/api/v1/export-authorizations?country=KZ".into(), Country("KZ"), [200, 200, 403, 200, 403, 403, 403, 403]),
        ("/api/v1/transfers?country=KZ".into(), Country("KZ"), [200, 200, 403, 200, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/stock-events"), At(p), [200, 200, 403, 403, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{w}/stock-events"), At(w), [200, 200, 403, 200, 403, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/stock"), At(p), [200, 200, 200, 403, 200, 403, 403, 403]),
        (format!("/api/v1/facilities/{p}/dispensings"), At(p), [200, 200, 403, 403, 200, 403, 403, 403]),
        (format!("/api/v1/reporting-periods?country=KZ&period={month}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/availability?country=KZ&year={year}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/consumption?country=KZ&year={year}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/estimates?country=KZ&year={year}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (
            format!("/api/v1/analytics/estimate-proposal?country=KZ&substance_id={morphine}&year={year}"),
            Country("KZ"),
            [200, 200, 200, 403, 403, 403, 403, 403],
        ),
        ("/api/v1/analytics/stock-outs?country=KZ".into(), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/mass-balance?country=KZ&year={year}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/analytics/regional?year={year}"), Anything, [200, 200, 200, 403, 403, 200, 200, 200]),
        ("/api/v1/analytics/adequacy-bands".into(), Anything, [200, 200, 200, 403, 403, 200, 200, 200]),
        ("/api/v1/analytics/parameters".into(), Anything, [200, 200, 200, 403, 403, 403, 200, 200]),
        (format!("/api/v1/reports/incb/form-c?country=KZ&year={year}"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        (format!("/api/v1/reports/incb/form-a?country=KZ&year={year}&quarter=1"), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/flags?country=KZ".into(), Country("KZ"), [200, 200, 200, 200, 200, 403, 403, 403]),
        ("/api/v1/rules?country=KZ".into(), Country("KZ"), [200, 200, 200, 403, 403, 403, 403, 403]),
        ("/api/v1/dispensings?country=KZ&prescriber_id=DOC-1".into(), Country("KZ"), [200, 200, 403, 403, 403, 403, 403, 403]),
    ];
    for (path, target, written) in matrix {
        let expected = expectations(&table, &Method::GET, &path, target, written, &columns);
        for (i, user) in users.iter().enumerate() {
            let r = app.request(Method::GET, &path, Some(&user.token), None).await;
            assert_eq!(r.status, expected[i], "GET {path} as {}: {}", ROLES[i], r.text);
        }
        assert_eq!(app.request(Method::GET, &path, None, None).await.status, 401, "GET {path} without a token");
    }
}
