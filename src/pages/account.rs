//! Signing in and out, the landing redirect, the user's own password and language.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app;
use crate::app::accounts::{change_password, set_language};
use crate::auth::password;
use crate::db::models::user::User;
use crate::pages::frame::{self, Chrome, PageError, Problem, Viewer};
use crate::pages::i18n;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(landing))
        .route("/", web::get().to(landing))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/account", web::get().to(account))
        .route("/account/password", web::post().to(password_change))
        .route("/language", web::post().to(language));
}

/// `/dashboard`: the signed-in user's home page, or the sign-in page.
async fn landing(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    match frame::viewer(&req, &session, &state).await? {
        Some(v) if v.must_change_password => Ok(frame::see_other("/dashboard/account")),
        Some(v) => Ok(frame::see_other(frame::home_of(v.caller.role))),
        None => Ok(frame::see_other("/dashboard/login")),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    failed: Option<String>,
    username: String,
    /// The database holds the synthetic demo world: say so, with its users.
    demo: bool,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only a page of the dashboard is a place to return to.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/dashboard/") && !n.starts_with("//") && !n.contains(['\\', '\r', '\n'])).unwrap_or("").to_owned()
}

async fn login_form(req: HttpRequest, session: Session, state: web::Data<AppState>, query: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    let lang = frame::lang_of_request(&req, &session);
    let demo = app::run(&state.pool, |conn| Ok(crate::demo::present(conn)?)).await.map_err(|e| PageError::from_app(&lang, e))?;
    let c = Chrome::new(&req, &session, None, "login-title");
    frame::html(&LoginPage { c, next: safe_next(query.next.as_deref()), failed: None, username: String::new(), demo })
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

/// Signs in with the same checks as `POST /api/v1/auth/login`: the login throttling, a
/// constant-time answer for unknown users, inactive users refused.
async fn login(req: HttpRequest, session: Session, state: web::Data<AppState>, form: web::Form<LoginForm>) -> Result<HttpResponse, PageError> {
    frame::check_csrf(&req, &session, &form.csrf)?;
    let LoginForm { username, password: given, next, .. } = form.into_inner();
    let username = username.trim().to_lowercase();
    let address = state.settings.trusted_proxies.client_of(&req);
    let fail = |key: &str, session: &Session| {
        let c = Chrome::new(&req, session, None, "login-title");
        let failed = Some(c.t.t(key));
        let page = LoginPage { c, next: safe_next(next.as_deref()), failed, username: username.clone(), demo: false };
        frame::html(&page).map(|mut r| {
            *r.status_mut() = if key == "login-throttled" { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
            r
        })
    };
    if state.login_limiter.check(&username, address).is_some() {
        return fail("login-throttled", &session);
    }
    let lookup = username.clone();
    let lang = frame::lang_of_request(&req, &session);
    let user = app::run(&state.pool, move |conn| Ok(User::find_by_username(conn, &lookup)?)).await.map_err(|e| PageError::from_app(&lang, e))?;
    let stored = user.as_ref().filter(|u| u.active && u.username == username).map(|u| u.password_hash.clone());
    let ok = web::block(move || password::verify(&given, stored.as_deref())).await.map_err(|e| PageError::Internal(e.into()))?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            state.login_limiter.record_failure(&username, address);
            tracing::info!(username = %username, %address, "dashboard login refused");
            return fail("login-failed", &session);
        }
    };
    state.login_limiter.record_success(&username, address);
    frame::sign_in(&session, &user)?;
    let target = if user.must_change_password {
        "/dashboard/account".to_owned()
    } else {
        Some(safe_next(next.as_deref())).filter(|n| !n.is_empty()).unwrap_or_else(|| frame::home_of(user.role).to_owned())
    };
    Ok(frame::see_other(&target))
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(req: HttpRequest, session: Session, form: web::Form<CsrfForm>) -> Result<HttpResponse, PageError> {
    frame::check_csrf(&req, &session, &form.csrf)?;
    frame::sign_out(&session);
    Ok(frame::see_other("/dashboard/login"))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    must_change: bool,
    problem: Option<Problem>,
}

async fn account(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "change_password").await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "account-title");
    frame::html(&AccountPage { c, must_change: viewer.must_change_password, problem: None })
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    idem: Option<String>,
    current_password: String,
    new_password: String,
    repeat_password: String,
}

fn account_problem(req: &HttpRequest, session: &Session, viewer: &Viewer, problem: Problem, status: StatusCode) -> Result<HttpResponse, PageError> {
    let c = Chrome::new(req, session, Some(viewer), "account-title");
    let mut r = frame::html(&AccountPage { c, must_change: viewer.must_change_password, problem: Some(problem) })?;
    *r.status_mut() = status;
    Ok(r)
}

/// Changes the user's own password with the checks of `POST /api/v1/auth/password`, then
/// signs in again (the session is renewed, as a token would be).
async fn password_change(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "change_password").await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let t = viewer.tr();
    let PasswordForm { idem, current_password, new_password, repeat_password, .. } = form.into_inner();
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if new_password != repeat_password {
        let problem =
            Problem { detail: t.t("account-mismatch"), errors: vec![("/repeat_password".into(), t.t("account-mismatch"))], ..Problem::default() };
        return account_problem(&req, &session, &viewer, problem, unprocessable);
    }
    let length = new_password.chars().count();
    if !(12..=1024).contains(&length) {
        let problem =
            Problem { detail: t.t("account-too-short"), errors: vec![("/new_password".into(), t.t("account-too-short"))], ..Problem::default() };
        return account_problem(&req, &session, &viewer, problem, unprocessable);
    }
    if let Err(e) = change_password::check_new_password(&current_password, &new_password) {
        return account_problem(&req, &session, &viewer, Problem::of_domain(&e), unprocessable);
    }
    let address = state.settings.trusted_proxies.client_of(&req);
    if state.login_limiter.check(&viewer.caller.username, address).is_some() {
        let problem = Problem { detail: t.t("login-throttled"), ..Problem::default() };
        return account_problem(&req, &session, &viewer, problem, StatusCode::TOO_MANY_REQUESTS);
    }
    let id = viewer.caller.user_id;
    let user = app::run(&state.pool, move |conn| Ok(User::find(conn, id)?))
        .await
        .map_err(|e| PageError::from_app(&viewer.lang, e))?
        .ok_or_else(|| PageError::NotFound { lang: viewer.lang.clone() })?;
    let stored = user.password_hash.clone();
    let hashed =
        web::block(move || if password::verify(&current_password, Some(&stored)) { password::hash(&new_password).map(Some) } else { Ok(None) })
            .await
            .map_err(|e| PageError::Internal(e.into()))?
            .map_err(PageError::Internal)?;
    let Some(password_hash) = hashed else {
        state.login_limiter.record_failure(&viewer.caller.username, address);
        let problem = Problem {
            detail: t.t("account-wrong-password"),
            errors: vec![("/current_password".into(), t.t("account-wrong-password"))],
            ..Problem::default()
        };
        return account_problem(&req, &session, &viewer, problem, StatusCode::FORBIDDEN);
    };
    let input = change_password::Input { password_hash };
    let fingerprint = frame::fingerprint(&[("change_password", "1")]);
    let written = frame::write(
        &state,
        &viewer,
        frame::form_key(idem.as_deref()),
        fingerprint,
        move |conn, actor| change_password::execute(conn, actor, input),
        |_| (StatusCode::OK, serde_json::json!({})),
    )
    .await?;
    match written {
        Ok(_) => {
            let user = app::run(&state.pool, move |conn| Ok(User::find(conn, id)?)).await.map_err(|e| PageError::from_app(&viewer.lang, e))?;
            if let Some(user) = user {
                frame::sign_in(&session, &user)?;
            }
            frame::flash(&session, &t.t("account-changed"));
            Ok(frame::see_other("/dashboard/account"))
        }
        Err(problem) => account_problem(&req, &session, &viewer, problem, unprocessable),
    }
}

#[derive(Deserialize)]
struct LanguageForm {
    csrf: String,
    idem: Option<String>,
    language: String,
    back: Option<String>,
}

/// Switches the language: remembered for the user (a command, audited), or for the
/// session before sign-in.
async fn language(req: HttpRequest, session: Session, state: web::Data<AppState>, form: web::Form<LanguageForm>) -> Result<HttpResponse, PageError> {
    frame::check_csrf(&req, &session, &form.csrf)?;
    let LanguageForm { idem, language, back, .. } = form.into_inner();
    let lang = frame::lang_of_request(&req, &session);
    let input = set_language::Input::parse(&language, i18n::languages()).map_err(|e| PageError::Bad {
        lang: lang.clone(),
        problem: Problem::of_domain(&e),
        status: StatusCode::UNPROCESSABLE_ENTITY,
    })?;
    let back = safe_next(back.as_deref());
    let back = if back.is_empty() { "/dashboard".to_owned() } else { back };
    match frame::viewer(&req, &session, &state).await? {
        Some(viewer) => {
            let fingerprint = frame::fingerprint(&[("language", &language)]);
            let written = frame::write(
                &state,
                &viewer,
                frame::form_key(idem.as_deref()),
                fingerprint,
                move |conn, actor| set_language::execute(conn, actor, input),
                |l| (StatusCode::OK, serde_json::json!({"language": l})),
            )
            .await?;
            if let Err(problem) = written {
                return Err(PageError::Bad { lang, problem, status: StatusCode::UNPROCESSABLE_ENTITY });
            }
        }
        None => frame::set_session_lang(&session, &input.language),
    }
    Ok(frame::see_other(&back))
}
