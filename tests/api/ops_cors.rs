//! CORS is closed unless `TAROZI_CORS_ORIGINS` names the origin exactly.

use awc::http::Method;

use crate::helpers::{TestApp, test_settings};

const ORIGIN: &str = "https://dashboard.example.org";

async fn preflight(app: &TestApp, origin: &str) -> crate::helpers::TestResponse {
    app.request_with(
        Method::OPTIONS,
        "/api/v1/facilities",
        None,
        None,
        &[("Origin", origin), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization, content-type")],
    )
    .await
}

#[actix_web::test]
async fn without_configured_origins_no_cors_headers_are_sent_and_no_preflight_is_granted() {
    let app = TestApp::spawn().await;
    let r = app.request_with(Method::GET, "/health", None, None, &[("Origin", ORIGIN)]).await.expect(200);
    assert!(r.header("access-control-allow-origin").is_none(), "{:?}", r.headers);
    let r = preflight(&app, ORIGIN).await;
    assert!(!(200..300).contains(&r.status), "{} {:?}", r.status, r.headers);
    assert!(r.header("access-control-allow-origin").is_none());
    assert!(r.header("access-control-allow-methods").is_none());
}

#[actix_web::test]
async fn a_configured_origin_gets_cors_and_others_do_not() {
    let mut settings = test_settings();
    settings.ops.cors_origins = vec![ORIGIN.to_owned(), "http://localhost:3000".to_owned()];
    let app = TestApp::spawn_with(settings).await;
    let r = app.request_with(Method::GET, "/health", None, None, &[("Origin", ORIGIN)]).await.expect(200);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(ORIGIN));
    assert!(r.header("access-control-expose-headers").unwrap_or_default().contains("x-request-id"), "{:?}", r.headers);
    let r = preflight(&app, ORIGIN).await;
    assert!((200..300).contains(&r.status), "{} {}", r.status, r.text);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(ORIGIN));
    assert!(r.header("access-control-allow-methods").unwrap_or_default().contains("POST"));

    let other = "https://evil.example.org";
    let r = app.request_with(Method::GET, "/health", None, None, &[("Origin", other)]).await.expect(200);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = preflight(&app, other).await;
    assert!(!(200..300).contains(&r.status));
    assert!(r.header("access-control-allow-origin").is_none());
}
