//! `/metrics`: bounded label sets, and served only to the configured token.

use awc::http::Method;

use crate::helpers::{TestApp, test_settings};

const TOKEN: &str = "metrics-token-metrics-token-0123456789";

async fn app_with_metrics() -> TestApp {
    let mut settings = test_settings();
    settings.ops.metrics_token = Some(TOKEN.to_owned());
    TestApp::spawn_with(settings).await
}

async fn metrics(app: &TestApp) -> String {
    let bearer = format!("Bearer {TOKEN}");
    app.request_with(Method::GET, "/metrics", None, None, &[("Authorization", &bearer)]).await.expect(200).text
}

#[actix_web::test]
async fn metrics_are_not_served_without_a_configured_token() {
    let app = TestApp::spawn().await;
    let r = app.request(Method::GET, "/metrics", None, None).await.expect(404);
    assert_eq!(r.code(), "not_found");
    let r = app.request_with(Method::GET, "/metrics", None, None, &[("Authorization", "Bearer anything")]).await.expect(404);
    assert!(!r.text.contains("tarozi_http_requests_total"));
}

#[actix_web::test]
async fn metrics_ask_for_the_configured_token() {
    let app = app_with_metrics().await;
    let r = app.request(Method::GET, "/metrics", None, None).await.expect(401);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    app.request_with(Method::GET, "/metrics", None, None, &[("Authorization", "Bearer metrics-token-metrics-token-012345678X")]).await.expect(401);
    app.request_with(Method::GET, "/metrics", None, None, &[("Authorization", TOKEN)]).await.expect(401);
    // A user's JWT is not the metrics token either.
    let admin = app.admin();
    app.get("/metrics", &admin).await.expect(401);
    assert!(metrics(&app).await.contains("tarozi_http_requests_total"));
}

#[actix_web::test]
async fn invented_methods_and_paths_do_not_grow_the_metrics() {
    let app = app_with_metrics().await;
    app.request(Method::GET, "/health", None, None).await.expect(200);
    let before = metrics(&app).await.lines().count();
    for i in 0..200 {
        let method = Method::from_bytes(format!("X{}", uuid::Uuid::new_v4().simple()).to_uppercase().as_bytes()).unwrap();
        let path = match i % 3 {
            0 => format!("/{}", uuid::Uuid::new_v4().simple()),
            1 => format!("/api/v1/{}/{}", uuid::Uuid::new_v4().simple(), i),
            _ => format!("/api/v1/facilities/{}", uuid::Uuid::new_v4().simple()),
        };
        let r = app.request(method, &path, None, None).await;
        assert!(r.status == 404 || r.status == 405, "{} {}", r.status, r.text);
        app.request(Method::GET, &path, None, None).await;
    }
    let text = metrics(&app).await;
    let after = text.lines().count();
    // A handful of new series (method `other`, route `unmatched` or a template), 16 lines each.
    assert!(after <= before + 6 * 16, "metrics grew from {before} to {after} lines:\n{text}");
    assert!(text.contains(r#"method="other",route="unmatched",status="404""#), "{text}");
    assert!(!text.to_uppercase().contains("METHOD=\"X"), "{text}");
    let templates = tarozi::openapi::spec().paths.paths;
    for line in text.lines().filter(|l| l.starts_with("tarozi_http_requests_total{")) {
        let route = line.split("route=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
        assert!(route == "unmatched" || templates.contains_key(route), "{line}");
    }
}
