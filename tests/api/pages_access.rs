//! Every page renders for the roles the policy admits for its operation and refuses the
//! others (403), and sends a visitor without a session to the sign-in page.

use tarozi::app::policy;
use tarozi::db::enums::{FacilityKind, Role};

use crate::helpers::{TestApp, TestUser, WebSession};

/// Each page and the operation whose policy entry admits it.
const PAGES: &[(&str, &str)] = &[
    ("/dashboard/overview", "get_availability"),
    ("/dashboard/overview.csv?table=regions", "get_availability"),
    ("/dashboard/reports/form-c.csv?year=2026&country=KZ", "get_form_c"),
    ("/dashboard/reports/form-a.csv?year=2026&quarter=1&country=KZ", "get_form_a"),
    ("/dashboard/flags", "update_flag"),
    ("/dashboard/flags.csv?table=counts", "update_flag"),
    ("/dashboard/rules", "list_rules"),
    ("/dashboard/facility", "close_reporting_period"),
    ("/dashboard/facility/dispensings-template.csv", "record_dispensings"),
    ("/dashboard/regional", "get_regional"),
    ("/dashboard/regional.csv", "get_regional"),
    ("/dashboard/exchange", "get_exchange_policy"),
    ("/dashboard/account", "change_password"),
    ("/dashboard/users", "list_users"),
];

async fn users(app: &TestApp) -> Vec<(Role, TestUser)> {
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, FacilityKind::Pharmacy, "Pharmacy 1").await;
    let wholesaler = app.facility(region, FacilityKind::Wholesaler, "Wholesaler 1").await;
    vec![
        (Role::Admin, app.admin()),
        (Role::Regulator, app.regulator("KZ")),
        (Role::Ministry, app.ministry("KZ")),
        (Role::Pharmacy, app.facility_user(&pharmacy)),
        (Role::Wholesaler, app.facility_user(&wholesaler)),
        (Role::Regional, app.regional()),
    ]
}

#[actix_web::test]
async fn every_page_renders_for_its_roles_and_refuses_the_others() {
    let app = TestApp::spawn().await;
    let mut checked = 0;
    for (role, user) in users(&app).await {
        let session = WebSession::signed_in(&app, &user).await;
        for (path, operation) in PAGES {
            let admitted = policy::admit(role, operation).is_ok();
            let r = session.get(path).await;
            let expected = if admitted { 200 } else { 403 };
            assert_eq!(r.status, expected, "{role} on {path}: {}", &r.text[..r.text.len().min(600)]);
            if admitted && !path.contains(".csv") {
                assert!(r.text.contains("<html lang=\"en\">"), "{role} on {path}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * PAGES.len());
}

#[actix_web::test]
async fn a_visitor_without_a_session_is_sent_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let visitor = WebSession::new(&app);
    for (path, _) in PAGES {
        let r = visitor.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        let location = r.header("location").unwrap();
        assert!(location.starts_with("/dashboard/login?next=%2Fdashboard%2F"), "{path}: {location}");
    }
    let root = visitor.get("/").await;
    assert_eq!(root.status, 303);
    assert_eq!(root.header("location").as_deref(), Some("/dashboard"));
    let dashboard = visitor.get("/dashboard").await;
    assert_eq!(dashboard.header("location").as_deref(), Some("/dashboard/login"));
    // Signed in, the user lands on its role's home page, and `next` brings it back.
    let ministry = app.ministry("KZ");
    let session = WebSession::new(&app);
    let token = session.csrf("/dashboard/login?next=%2Fdashboard%2Fregional").await;
    let r = session
        .post_form(
            "/dashboard/login",
            &[("csrf", &token), ("username", &ministry.username), ("password", crate::helpers::TEST_PASSWORD), ("next", "/dashboard/rules")],
        )
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/dashboard/rules"));
    assert_eq!(session.get("/dashboard").await.header("location").as_deref(), Some("/dashboard/overview"));
    // A `next` outside the dashboard is ignored.
    let other = WebSession::new(&app);
    let token = other.csrf("/dashboard/login").await;
    let r = other
        .post_form(
            "/dashboard/login",
            &[("csrf", &token), ("username", &ministry.username), ("password", crate::helpers::TEST_PASSWORD), ("next", "//evil.example/x")],
        )
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/dashboard/overview"));
}
