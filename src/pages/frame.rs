//! What every page shares: who is signed in (`Viewer`, re-checked against the user row on
//! every request and admitted by `app::policy::POLICY` for the operation the page performs),
//! the page frame (`Chrome`: navigation, language, CSRF token, flash message), the CSRF
//! check of every form, running a command through the same write frame as the API
//! (`write`), and errors as HTML pages.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app;
use crate::app::error::{AppError, AppResult, DomainError};
use crate::app::frame::Outcome;
use crate::app::policy;
use crate::auth::Caller;
use crate::db::enums::Role;
use crate::db::models::audit_event::Actor;
use crate::db::models::user::User;
use crate::db::models::user_preference;
use crate::domain::ids::UserId;
use crate::observability::RequestId;
use crate::pages::i18n::{self, Tr};
use crate::state::AppState;

/// Session keys.
const USER: &str = "uid";
const ISSUED: &str = "iat";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// A session lasts at most this long after sign-in.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// The signed-in user of a page request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub lang: String,
    pub must_change_password: bool,
}

impl Viewer {
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }

    pub fn tr(&self) -> Tr {
        Tr::new(&self.lang)
    }
}

/// Starts a session for `user` (a fresh session id: `renew`), with a new CSRF token.
pub fn sign_in(session: &Session, user: &User) -> Result<(), PageError> {
    session.renew();
    session.clear();
    let now = chrono::Utc::now().timestamp();
    session.insert(USER, user.id).map_err(internal)?;
    session.insert(ISSUED, now).map_err(internal)?;
    session.insert(CSRF, crate::config::random_hex(32)).map_err(internal)?;
    Ok(())
}

pub fn sign_out(session: &Session) {
    session.purge();
}

/// The session's CSRF token (made when the session has none, e.g. before sign-in).
pub fn csrf_token(session: &Session) -> String {
    match session.get::<String>(CSRF) {
        Ok(Some(t)) => t,
        _ => {
            let token = crate::config::random_hex(32);
            let _ = session.insert(CSRF, &token);
            token
        }
    }
}

/// A message shown once on the next page.
pub fn flash(session: &Session, message: &str) {
    let _ = session.insert(FLASH, message);
}

fn take_flash(session: &Session) -> Option<String> {
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}

/// 403 unless the form's `token` is the session's CSRF token (compared in constant time)
/// and the request, when it names its `Origin`, comes from this site.
pub fn check_csrf(req: &HttpRequest, session: &Session, token: &str) -> Result<(), PageError> {
    let lang = lang_of_request(req, session);
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        if origin.as_bytes() != own.as_bytes() {
            tracing::info!(origin = ?origin, own = %own, "form refused: foreign origin");
            return Err(PageError::Csrf { lang });
        }
    }
    let expected = session.get::<String>(CSRF).ok().flatten().unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(token.as_bytes())) {
        return Err(PageError::Csrf { lang });
    }
    Ok(())
}

/// The language for a request without a signed-in user: the session's choice, else the
/// browser's.
pub fn lang_of_request(req: &HttpRequest, session: &Session) -> String {
    if let Ok(Some(lang)) = session.get::<String>("lang")
        && i18n::languages().contains(&lang)
    {
        return lang;
    }
    i18n::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

/// Remembers a language for the session (before sign-in).
pub fn set_session_lang(session: &Session, lang: &str) {
    let _ = session.insert("lang", lang);
}

/// The signed-in user, if the session names one that is still active, was signed in after
/// its last password change and within `SESSION_SECONDS`.
pub async fn viewer(req: &HttpRequest, session: &Session, state: &AppState) -> Result<Option<Viewer>, PageError> {
    let (Ok(Some(user_id)), Ok(Some(issued))) = (session.get::<UserId>(USER), session.get::<i64>(ISSUED)) else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    if now - issued > SESSION_SECONDS || issued > now + 60 {
        sign_out(session);
        return Ok(None);
    }
    let found = app::run(&state.pool, move |conn| {
        let user = User::find(conn, user_id)?;
        let lang = user_preference::language_of(conn, user_id)?;
        Ok(user.map(|u| (u, lang)))
    })
    .await
    .map_err(|e| PageError::from_app(i18n::FALLBACK, e))?;
    let Some((user, lang)) = found.filter(|(u, _)| u.active && u.password_changed_at.is_none_or(|t| issued >= t.timestamp())) else {
        sign_out(session);
        return Ok(None);
    };
    let lang = lang.filter(|l| i18n::languages().contains(l)).unwrap_or_else(|| lang_of_request(req, session));
    Ok(Some(Viewer {
        must_change_password: user.must_change_password,
        caller: Caller {
            user_id: user.id,
            username: user.username,
            role: user.role,
            country_code: user.country_code,
            facility_id: user.facility_id,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
            api_key_id: None,
        },
        lang,
    }))
}

/// The signed-in user admitted by the policy for `operation` (the API operation the page
/// performs); otherwise the sign-in page, the password change a reset demands, or 403.
pub async fn admit(req: &HttpRequest, session: &Session, state: &AppState, operation: &str) -> Result<Viewer, PageError> {
    let Some(viewer) = viewer(req, session, state).await? else {
        return Err(PageError::Login { next: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default() });
    };
    if viewer.must_change_password && operation != "change_password" {
        return Err(PageError::Redirect("/dashboard/account".to_owned()));
    }
    policy::admit(viewer.caller.role, operation).map_err(|e| PageError::Forbidden { lang: viewer.lang.clone(), detail: e.detail })?;
    Ok(viewer)
}

/// A link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// The pages of the navigation, each with the operation that admits it.
const NAV: &[(&str, &str, &str)] = &[
    ("/dashboard/overview", "nav-overview", "get_availability"),
    ("/dashboard/flags", "nav-flags", "update_flag"),
    ("/dashboard/rules", "nav-rules", "list_rules"),
    ("/dashboard/facility", "nav-facility", "close_reporting_period"),
    ("/dashboard/regional", "nav-regional", "get_regional"),
    ("/dashboard/exchange", "nav-exchange", "put_exchange_policy"),
    ("/dashboard/users", "nav-users", "list_users"),
    ("/dashboard/account", "nav-account", "change_password"),
];

/// The first page a role lands on.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Regulator => "/dashboard/flags",
        Role::Pharmacy | Role::Wholesaler => "/dashboard/facility",
        Role::Regional => "/dashboard/regional",
        Role::Admin => "/dashboard/users",
        Role::Ministry => "/dashboard/overview",
        // A machine account of the regional exchange: nothing to read here but its account.
        Role::Exchange => "/dashboard/account",
    }
}

/// The frame of every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: Tr,
    pub title: String,
    pub username: Option<String>,
    pub role: Option<String>,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub flash: Option<String>,
    /// Other languages: (code, own name).
    pub languages: Vec<(String, String)>,
    /// The path and query of this page (the language switch returns here).
    pub here: String,
    /// A fresh idempotency key for the forms of this page.
    pub idem: String,
}

impl Chrome {
    pub fn new(req: &HttpRequest, session: &Session, viewer: Option<&Viewer>, title_key: &str) -> Chrome {
        let t = match viewer {
            Some(v) => v.tr(),
            None => Tr::new(&lang_of_request(req, session)),
        };
        let path = req.path();
        let nav = match viewer {
            Some(v) if !v.must_change_password => NAV
                .iter()
                .filter(|(_, _, op)| policy::admit(v.caller.role, op).is_ok())
                .filter(|(href, _, _)| *href != "/dashboard/facility" || v.caller.facility_id.is_some())
                .map(|(href, key, _)| NavLink { href, label: t.t(key), current: path.starts_with(href) })
                .collect(),
            _ => Vec::new(),
        };
        let languages = i18n::languages().iter().map(|l| (l.clone(), Tr::new(l).t("language-name"))).collect();
        Chrome {
            title: t.t(title_key),
            username: viewer.map(|v| v.caller.username.clone()),
            role: viewer.map(|v| t.word("role", v.caller.role.as_str())),
            nav,
            csrf: csrf_token(session),
            flash: take_flash(session),
            languages,
            here: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.to_owned()),
            idem: crate::config::random_hex(16),
            t,
        }
    }
}

/// A rendered page.
pub fn html<T: Template>(page: &T) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|e| PageError::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body))
}

/// 303 to `location` (after a form).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// A problem a write answered with, for the form that sent it.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    pub code: String,
    pub detail: String,
    /// (field, what is wrong)
    pub errors: Vec<(String, String)>,
}

impl Problem {
    fn of_document(doc: &Value) -> Problem {
        let errors = doc["errors"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        let field = e["pointer"].as_str().or(e["parameter"].as_str()).unwrap_or("").to_owned();
                        (field, e["detail"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Problem { code: doc["code"].as_str().unwrap_or("").to_owned(), detail: doc["detail"].as_str().unwrap_or("").to_owned(), errors }
    }

    pub fn of_domain(e: &DomainError) -> Problem {
        Problem::of_document(&serde_json::to_value(crate::error::document(e)).unwrap_or(Value::Null))
    }
}

/// The idempotency key of a form (its hidden `idem` field), kept apart from API keys.
pub fn form_key(idem: Option<&str>) -> Option<String> {
    idem.filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric())).map(|k| format!("page:{k}"))
}

/// The fingerprint of a form: its fields but the CSRF token, in order.
pub fn fingerprint(fields: &[(&str, &str)]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for (k, v) in fields.iter().filter(|(k, _)| *k != "csrf") {
        hash.update(k.as_bytes());
        hash.update([0]);
        hash.update(v.as_bytes());
        hash.update([0]);
    }
    hash.finalize().into()
}

/// Runs `command` through the API's write frame (transaction, idempotency key, audit entry,
/// refused attempts) and answers with the JSON view the API would answer, or the problem.
pub async fn write<T, V, C, R>(
    state: &AppState,
    viewer: &Viewer,
    key: Option<String>,
    fingerprint: [u8; 32],
    command: C,
    view: R,
) -> Result<Result<Value, Problem>, PageError>
where
    C: FnOnce(&mut diesel::PgConnection, &Actor) -> AppResult<Outcome<T>> + Send + 'static,
    R: FnOnce(T) -> (StatusCode, V) + Send + 'static,
    V: Serialize,
    T: 'static,
{
    match crate::idempotency::execute_reply(state, key, viewer.actor(), fingerprint, command, view).await {
        Ok(reply) => {
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            if (200..300).contains(&reply.status) { Ok(Ok(body)) } else { Ok(Err(Problem::of_document(&body))) }
        }
        Err(AppError::Domain(e)) => Ok(Err(Problem::of_domain(&e))),
        Err(e) => Err(PageError::from_app(&viewer.lang, e)),
    }
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: to the sign-in page, then back to `next`.
    Login {
        next: String,
    },
    Redirect(String),
    Forbidden {
        lang: String,
        detail: String,
    },
    NotFound {
        lang: String,
    },
    /// A form without this session's token, or from another site.
    Csrf {
        lang: String,
    },
    /// A bad request the page cannot show in its form.
    Bad {
        lang: String,
        problem: Problem,
        status: StatusCode,
    },
    Internal(anyhow::Error),
}

fn internal(e: impl std::fmt::Display) -> PageError {
    PageError::Internal(anyhow::anyhow!("{e}"))
}

impl PageError {
    pub fn from_app(lang: &str, e: AppError) -> PageError {
        match e {
            AppError::Domain(d) => {
                let status = crate::error::status_of(d.code);
                match status {
                    StatusCode::FORBIDDEN => PageError::Forbidden { lang: lang.to_owned(), detail: d.detail.clone() },
                    StatusCode::NOT_FOUND => PageError::NotFound { lang: lang.to_owned() },
                    _ => PageError::Bad { lang: lang.to_owned(), problem: Problem::of_domain(&d), status },
                }
            }
            AppError::Internal(e) => PageError::Internal(e),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    title: String,
    message: String,
    problem: Option<Problem>,
    code: u16,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Login { .. } | PageError::Redirect(_) => StatusCode::SEE_OTHER,
            PageError::Forbidden { .. } | PageError::Csrf { .. } => StatusCode::FORBIDDEN,
            PageError::NotFound { .. } => StatusCode::NOT_FOUND,
            PageError::Bad { status, .. } => *status,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (lang, title_key, message, problem) = match self {
            PageError::Login { next } => {
                let target = if next.starts_with("/dashboard") && !next.starts_with("/dashboard/login") {
                    format!("/dashboard/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>())
                } else {
                    "/dashboard/login".to_owned()
                };
                return see_other(&target);
            }
            PageError::Redirect(to) => return see_other(to),
            PageError::Forbidden { lang, detail } => (lang.as_str(), "error-forbidden", detail.clone(), None),
            PageError::NotFound { lang } => (lang.as_str(), "error-not-found", String::new(), None),
            PageError::Csrf { lang } => (lang.as_str(), "error-csrf", String::new(), None),
            PageError::Bad { lang, problem, .. } => (lang.as_str(), "error-bad-request", problem.detail.clone(), Some(problem.clone())),
            PageError::Internal(e) => {
                tracing::error!(error = ?e, "page failed");
                (i18n::FALLBACK, "error-internal", String::new(), None)
            }
        };
        let t = Tr::new(lang);
        let page = ErrorPage { title: t.t(title_key), message, problem, code: self.status_code().as_u16(), t };
        let body = page.render().unwrap_or_else(|_| "error".to_owned());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}
