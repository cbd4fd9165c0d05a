//! The administrator's page (`/dashboard/users`): users — create, deactivate or activate,
//! reset a password — through the commands of `POST /api/v1/users` and its actions, and the
//! substances' reference values in force with their sources.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::app;
use crate::app::accounts::{create_user, reset_password, set_user_active};
use crate::app::error::DomainError;
use crate::auth::password;
use crate::db::enums::{Role, Vocabulary};
use crate::db::models::substance::Substance;
use crate::db::models::user::User;
use crate::domain::ids::{FacilityId, UserId};
use crate::extract;
use crate::pages::frame::{self, Chrome, PageError, Problem, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::table::{Cell, Table, col};
use crate::state::AppState;
use crate::views::auth::{NewUserRequest, PasswordResetRequest, ReasonRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(page))
        .route("/users", web::post().to(create))
        .route("/users/{id}/active", web::post().to(set_active))
        .route("/users/{id}/password-reset", web::post().to(reset));
}

/// One user row with its actions.
struct UserRow {
    id: UserId,
    username: String,
    role: String,
    country: String,
    facility: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserRow>,
    roles: Vec<String>,
    reference: Table,
    csv_label: String,
    problem: Option<Problem>,
    me: UserId,
}

fn reference_table(rows: &[(String, crate::db::models::substance::ReferenceValues)], t: &Tr) -> Table {
    let mut table = Table::new(
        "reference",
        t.t("users-reference-caption"),
        vec![
            col("substance", t.t("col-substance"), false),
            col("effective_from", t.t("col-from"), false),
            col("sddd_mg", t.t("col-sddd-mg"), true),
            col("me_factor", t.t("col-me-factor"), true),
            col("source", t.t("col-source"), false),
        ],
    );
    for (inn, v) in rows {
        table.rows.push(vec![
            Cell::text(inn.clone()),
            Cell::date(v.effective_from, t),
            Cell::dec(v.sddd_mg.as_ref(), 4, t),
            Cell::dec(v.me_factor.as_ref(), 4, t),
            Cell::text(format!("{}{}", v.source, v.me_source.as_ref().map(|m| format!("; ME: {m}")).unwrap_or_default())),
        ]);
    }
    table
}

async fn render(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    viewer: &Viewer,
    problem: Option<Problem>,
) -> Result<HttpResponse, PageError> {
    let (users, reference) = app::run(&state.pool, move |conn| {
        let users = User::page(conn, 0, 1000)?.0;
        let substances = Substance::all(conn)?;
        let values = crate::db::models::substance::ReferenceValues::in_force(conn, Utc::now().date_naive())?;
        let reference: Vec<(String, crate::db::models::substance::ReferenceValues)> = values
            .into_iter()
            .map(|v| (substances.iter().find(|s| s.id == v.substance_id).map_or_else(|| v.substance_id.to_string(), |s| s.inn.clone()), v))
            .collect();
        Ok((users, reference))
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))?;
    let c = Chrome::new(req, session, Some(viewer), "users-title");
    let t = &c.t;
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = UsersPage {
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                role: t.word("role", u.role.as_str()),
                country: u.country_code.unwrap_or_default(),
                facility: u.facility_id.map(|f| f.to_string()).unwrap_or_default(),
                active: u.active,
                username: u.username,
            })
            .collect(),
        roles: Role::values(),
        reference: reference_table(&reference, t),
        csv_label: t.t("csv-download"),
        problem,
        me: viewer.caller.user_id,
        c,
    };
    let mut response = frame::html(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "list_users").await?;
    render(&req, &session, &state, &viewer, None).await
}

fn some(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `request` checked by the API's own rules, as a problem for the page.
fn checked<T: validator::Validate>(request: T) -> Result<T, Problem> {
    extract::validate(&request).map(|_| request).map_err(|e| Problem::of_domain(&e))
}

/// After a write: back to the list with a message, or the list with the problem.
async fn after(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    viewer: &Viewer,
    result: Result<serde_json::Value, Problem>,
    done: &str,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(_) => {
            frame::flash(session, &viewer.tr().t(done));
            Ok(frame::see_other("/dashboard/users"))
        }
        Err(problem) => render(req, session, state, viewer, Some(problem)).await,
    }
}

#[derive(Deserialize)]
struct CreateForm {
    csrf: String,
    idem: Option<String>,
    username: String,
    password: String,
    role: String,
    country_code: Option<String>,
    facility_id: Option<String>,
}

async fn create(req: HttpRequest, session: Session, state: web::Data<AppState>, form: web::Form<CreateForm>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "create_user").await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let CreateForm { idem, username, password: given, role, country_code, facility_id, .. } = form.into_inner();
    let username = username.trim().to_owned();
    let fingerprint = frame::fingerprint(&[("username", &username), ("role", &role)]);
    // The API's request, checked by its own rules, then the command's.
    let request = role
        .parse::<Role>()
        .map_err(|_| Problem::of_domain(&DomainError::field("/role", "is not a role")))
        .and_then(|role| match some(facility_id).map(|f| f.parse::<FacilityId>()) {
            Some(Err(_)) => Err(Problem::of_domain(&DomainError::field("/facility_id", "must be a facility id"))),
            Some(Ok(f)) => Ok((role, Some(f))),
            None => Ok((role, None)),
        })
        .map(|(role, facility_id)| NewUserRequest { username, password: given, role, country_code: some(country_code), facility_id })
        .and_then(checked)
        .and_then(|r| create_user::check_username(&r.username).map(|_| r).map_err(|e| Problem::of_domain(&e)));
    let result = match request {
        Ok(NewUserRequest { username, password: given, role, country_code, facility_id }) => {
            let hash = web::block(move || password::hash(&given)).await.map_err(|e| PageError::Internal(e.into()))?.map_err(PageError::Internal)?;
            let input =
                create_user::Input { username, password_hash: hash, role, country_code: country_code.map(|c| c.to_ascii_uppercase()), facility_id };
            frame::write(
                &state,
                &viewer,
                frame::form_key(idem.as_deref()),
                fingerprint,
                move |conn, actor| create_user::execute(conn, actor, input),
                |u| (StatusCode::CREATED, serde_json::json!({"id": u.id})),
            )
            .await?
        }
        Err(p) => Err(p),
    };
    after(&req, &session, &state, &viewer, result, "users-created").await
}

#[derive(Deserialize)]
struct ActiveForm {
    csrf: String,
    idem: Option<String>,
    active: String,
    reason: Option<String>,
}

async fn set_active(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    form: web::Form<ActiveForm>,
) -> Result<HttpResponse, PageError> {
    let active = form.active == "true";
    let viewer = frame::admit(&req, &session, &state, if active { "activate_user" } else { "deactivate_user" }).await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let id = path.into_inner();
    let ActiveForm { idem, reason, .. } = form.into_inner();
    let reason = match checked(ReasonRequest { reason: some(reason) }) {
        Ok(r) => r.reason,
        Err(problem) => return render(&req, &session, &state, &viewer, Some(problem)).await,
    };
    let fingerprint = frame::fingerprint(&[
        ("user", &id.to_string()),
        ("active", if active { "true" } else { "false" }),
        ("reason", reason.as_deref().unwrap_or("")),
    ]);
    let result = match set_user_active::Input::parse(&viewer.actor(), id, active, reason) {
        Ok(input) => {
            frame::write(
                &state,
                &viewer,
                frame::form_key(idem.as_deref()),
                fingerprint,
                move |conn, actor| set_user_active::execute(conn, actor, input),
                |u| (StatusCode::OK, serde_json::json!({"id": u.id, "active": u.active})),
            )
            .await?
        }
        Err(e) => Err(Problem::of_domain(&e)),
    };
    after(&req, &session, &state, &viewer, result, if active { "users-activated" } else { "users-deactivated" }).await
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    idem: Option<String>,
    new_password: String,
}

async fn reset(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "reset_user_password").await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let user_id = path.into_inner();
    let ResetForm { idem, new_password, .. } = form.into_inner();
    let new_password = match checked(PasswordResetRequest { new_password }) {
        Ok(r) => r.new_password,
        Err(problem) => return render(&req, &session, &state, &viewer, Some(problem)).await,
    };
    let fingerprint = frame::fingerprint(&[("user", &user_id.to_string()), ("reset", "1")]);
    let hash = web::block(move || password::hash(&new_password)).await.map_err(|e| PageError::Internal(e.into()))?.map_err(PageError::Internal)?;
    let input = reset_password::Input { user_id, password_hash: hash };
    let result = frame::write(
        &state,
        &viewer,
        frame::form_key(idem.as_deref()),
        fingerprint,
        move |conn, actor| reset_password::execute(conn, actor, input),
        |u| (StatusCode::OK, serde_json::json!({"id": u.id})),
    )
    .await?;
    after(&req, &session, &state, &viewer, result, "users-reset").await
}
