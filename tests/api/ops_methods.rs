//! A path served under other methods answers 405 with `Allow`; an unknown path 404.

use awc::http::Method;

use crate::helpers::TestApp;

#[actix_web::test]
async fn a_method_the_path_does_not_support_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app.request(Method::DELETE, "/api/v1/facilities", Some(&admin.token), None).await.expect(405);
    assert_eq!(r.code(), "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
    assert_eq!(r.body["status"], 405);
    let r = app.request(Method::PUT, "/health", None, None).await.expect(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    let r = app.request(Method::DELETE, "/api/v1/facilities/17", None, None).await.expect(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH"));
    let r = app.request(Method::GET, "/api/v1/diversion/scans", None, None).await.expect(405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
}

#[actix_web::test]
async fn an_unknown_path_is_404_whatever_the_method() {
    let app = TestApp::spawn().await;
    for method in [Method::GET, Method::DELETE, Method::from_bytes(b"FOOBAR").unwrap()] {
        let r = app.request(method, "/api/v1/nothing-here", None, None).await.expect(404);
        assert_eq!(r.code(), "not_found");
        assert!(r.header("allow").is_none());
    }
    app.request(Method::GET, "/api/v1/facilities/1/nothing", None, None).await.expect(404);
}
