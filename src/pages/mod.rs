//! The dashboard: server-rendered pages under `/dashboard` (askama templates in
//! `templates/`, Fluent catalogues in `locales/`, charts as inline SVG), usable without
//! JavaScript. Pages call the same application-layer commands and queries as the JSON API,
//! admitted by the same policy, through the same write frame (audit entry, idempotency key
//! from a hidden field of every form).
//!
//! Sessions are private (encrypted and signed) cookies, HttpOnly and SameSite=Strict,
//! Secure with `TAROZI_COOKIE_SECURE`; every form carries the session's CSRF token (checked
//! in constant time, with the `Origin` when the browser sends one). Every answer carries a
//! content security policy without inline scripts or styles, `nosniff` and
//! `frame-ancestors 'none'`.

pub mod account;
pub mod admin;
pub mod chart;
pub mod exchange;
pub mod flags;
pub mod frame;
pub mod i18n;
pub mod ledger;
pub mod overview;
pub mod pharmacy;
pub mod regional;
pub mod table;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::http::StatusCode;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha512};

use crate::config::Settings;

/// The content security policy of every page: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("../../static/style.css");

/// The session cookie's 64-byte key, derived from the token secret (so it needs no setting
/// of its own and changes with it).
fn session_key(secret: &[u8]) -> Key {
    let mut hash = Sha512::new();
    hash.update(b"tarozi dashboard session\0");
    hash.update(secret);
    Key::from(&hash.finalize())
}

fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(STYLE)
}

/// Registers `/` (to the dashboard) and everything under `/dashboard`.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    let session = SessionMiddleware::builder(CookieSessionStore::default(), session_key(&settings.jwt_secret))
        .cookie_name("tarozi_session".to_owned())
        .cookie_secure(settings.ops.cookie_secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(actix_web::cookie::time::Duration::seconds(frame::SESSION_SECONDS)))
        .build();
    cfg.service(web::redirect("/", "/dashboard").using_status_code(StatusCode::SEE_OTHER))
        .route("/dashboard/static/style.css", web::get().to(style))
        .service(
            web::scope("/dashboard")
                .app_data(web::FormConfig::default().limit(64 * 1024))
                .wrap(session)
                .wrap(headers())
                .configure(account::configure)
                .configure(overview::configure)
                .configure(flags::configure)
                .configure(pharmacy::configure)
                .configure(regional::configure)
                .configure(exchange::configure)
                .configure(admin::configure),
        );
}
