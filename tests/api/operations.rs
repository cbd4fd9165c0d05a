use awc::http::Method;

use crate::helpers::{TestApp, test_settings};

#[actix_web::test]
async fn health_ready_and_metrics_answer() {
    let mut settings = test_settings();
    settings.ops.metrics_token = Some("metrics-token-metrics-token-0123456789".to_owned());
    let app = TestApp::spawn_with(settings).await;
    app.request(Method::GET, "/health", None, None).await.expect(200);
    let r = app.request(Method::GET, "/ready", None, None).await.expect(200);
    assert_eq!(r.body["status"], "ready");
    app.request(Method::GET, "/api/v1/auth/me", None, None).await.expect(401);
    let bearer = "Bearer metrics-token-metrics-token-0123456789";
    let m = app.request_with(Method::GET, "/metrics", None, None, &[("Authorization", bearer)]).await.expect(200);
    assert!(m.text.contains(r#"tarozi_http_requests_total{method="GET",route="/api/v1/auth/me",status="401"} 1"#), "{}", m.text);
    assert!(m.text.contains(r#"tarozi_http_request_duration_seconds_bucket{method="GET",route="/ready",status="200",le="+Inf"} 1"#));
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(r.header("x-request-id").unwrap().len(), 36);
    let r = app.request_with(Method::GET, "/api/v1/auth/me", None, None, &[("X-Request-Id", "client-chosen-7")]).await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("client-chosen-7"));
    assert_eq!(r.body["request_id"], "client-chosen-7");
}

#[actix_web::test]
async fn the_served_spec_is_the_committed_spec_and_docs_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let r = app.request(Method::GET, "/openapi.json", None, None).await.expect(200);
    let committed: serde_json::Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(r.body, committed, "run `cargo run -- openapi > openapi/openapi.json` and commit the result");
    let docs = app.request(Method::GET, "/docs/", None, None).await.expect(200);
    assert!(docs.text.contains("swagger-ui"), "{}", docs.text);
    let js = app.request(Method::GET, "/docs/swagger-ui-bundle.js", None, None).await.expect(200);
    assert!(js.text.len() > 100_000);
    let redirect = app.request(Method::GET, "/docs", None, None).await;
    assert!(redirect.status == 307 || redirect.status == 308 || redirect.status == 200, "{}", redirect.status);
}

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = tarozi::openapi::spec_json();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap_or_default();
    assert!(generated == committed, "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`");
}

#[test]
fn every_operation_is_documented_with_problem_responses_and_security() {
    let spec = tarozi::openapi::spec();
    let json = serde_json::to_value(&spec).unwrap();
    let paths = json["paths"].as_object().unwrap();
    for expected in
        ["/api/v1/auth/login", "/api/v1/users", "/api/v1/substances/{id}", "/api/v1/regions/{id}/population", "/api/v1/facilities/{id}", "/ready"]
    {
        assert!(paths.contains_key(expected), "{expected} missing from the spec");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["responses"]["4XX"].is_object(), "{method} {path} lacks 4XX");
            assert!(op["operationId"].is_string(), "{method} {path} lacks an operation id");
        }
    }
    assert!(json["components"]["securitySchemes"]["bearer_auth"].is_object());
}
