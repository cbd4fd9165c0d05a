//! Bad input of every kind gets an RFC 9457 problem naming the field, never a 500.

use awc::http::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app.send_raw(Method::POST, "/api/v1/regions", Some(&admin.token), "application/json", "{\"country_code\": \"KZ\",").await.expect(400);
    assert_eq!(r.code(), "malformed_json");
    assert_eq!(r.header("content-type").unwrap(), "application/problem+json");
    for member in ["type", "title", "status", "detail", "code", "request_id", "instance"] {
        assert!(!r.body[member].is_null(), "problem lacks {member}: {}", r.text);
    }
    let r = app.send_raw(Method::POST, "/api/v1/regions", Some(&admin.token), "text/plain", "hello").await.expect(415);
    assert_eq!(r.code(), "unsupported_media_type");
}

#[actix_web::test]
async fn wrong_types_missing_and_unknown_fields_name_their_pointer() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let cases = [
        (json!({"country_code": "KZ", "name": 5}), "/name"),
        (json!({"country_code": "KZ"}), "/name"),
        (json!({"country_code": "KZ", "name": "A", "colour": "red"}), "/colour"),
        (json!({"country_code": "KZ", "name": ""}), "/name"),
    ];
    for (body, pointer) in cases {
        let r = app.post("/api/v1/regions", &admin, body.clone()).await.expect(422);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.pointers(), vec![pointer.to_owned()], "body {body}: {}", r.text);
    }
    let region = app.region("KZ", "Almaty").await;
    let r = app
        .put(
            &format!("/api/v1/regions/{region}/population"),
            &admin,
            json!({"year": 2026, "total": 10, "by_sex_age": [{"sex": "other", "age_band": "0-14", "count": 1}]}),
        )
        .await
        .expect(422);
    assert_eq!(r.pointers(), vec!["/by_sex_age/0/sex"]);
}

#[actix_web::test]
async fn bad_query_and_path_parameters_are_problems() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app.get("/api/v1/facilities?per_page=5000", &admin).await.expect(422);
    assert_eq!(r.pointers(), vec!["per_page"]);
    let r = app.get("/api/v1/facilities?region_id=abc", &admin).await.expect(422);
    assert_eq!(r.pointers(), vec!["region_id"]);
    let r = app.get("/api/v1/facilities?colour=red", &admin).await.expect(422);
    assert_eq!(r.pointers(), vec!["colour"]);
    let r = app.get("/api/v1/substances?as_of=yesterday", &admin).await.expect(422);
    assert_eq!(r.pointers(), vec!["as_of"]);
    let r = app.get("/api/v1/facilities/not-a-number", &admin).await.expect(404);
    assert_eq!(r.header("content-type").unwrap(), "application/problem+json");
    let r = app.get("/api/v1/facilities/424242", &admin).await.expect(404);
    assert_eq!(r.code(), "not_found");
    let r = app.get("/api/v1/no-such-thing", &admin).await.expect(404);
    assert_eq!(r.code(), "not_found");
}

#[actix_web::test]
async fn database_constraint_failures_never_leak_database_text() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.post("/api/v1/regions", &admin, json!({"country_code": "KZ", "name": "Almaty"})).await.expect(201);
    let r = app.post("/api/v1/regions", &admin, json!({"country_code": "KZ", "name": "Almaty"})).await.expect(409);
    for leak in ["duplicate", "constraint", "violates", "regions_country_code"] {
        assert!(!r.text.contains(leak), "{leak} leaked: {}", r.text);
    }
    let r = app.post("/api/v1/regions", &admin, json!({"country_code": "XX", "name": "Nowhere"})).await.expect(422);
    assert_eq!(r.pointers(), vec!["/country_code"]);
}
