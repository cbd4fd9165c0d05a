//! The country's sharing policy for the regional exchange (`/dashboard/exchange`): the
//! regulator sees which sections of its monthly packages the hub receives (none until it
//! decides) and changes them with a form that runs the command of
//! `PUT /api/v1/exchange/policy` (`app::exchange::put_policy`) through the same write frame,
//! policy entry and audit.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app;
use crate::app::error::DomainError;
use crate::app::exchange::{Policy, put_policy};
use crate::db::enums::ExchangeSection;
use crate::pages::frame::{self, Chrome, PageError, Problem, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::table::{Cell, Table, col};
use crate::state::AppState;
use crate::views::exchange::{PolicyEnvelope, PolicyView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/exchange", web::get().to(page)).route("/exchange/policy", web::post().to(put));
}

/// The country whose policy the viewer sets (a regulator's own).
fn country_of(viewer: &Viewer) -> Result<String, PageError> {
    viewer
        .caller
        .country_scope(None)
        .ok()
        .flatten()
        .ok_or_else(|| PageError::Forbidden { lang: viewer.lang.clone(), detail: "a sharing policy belongs to a country".to_owned() })
}

async fn load(state: &AppState, viewer: &Viewer) -> Result<Policy, PageError> {
    let country = country_of(viewer)?;
    app::run(&state.pool, move |conn| app::exchange::policy_of(conn, &country)).await.map_err(|e| PageError::from_app(&viewer.lang, e))
}

/// A section of the form: its code, its name, and whether it is shared.
struct SectionChoice {
    code: &'static str,
    label: String,
    shared: bool,
}

#[derive(Template)]
#[template(path = "exchange.html")]
struct ExchangePage {
    c: Chrome,
    country: String,
    updated: String,
    sections: Vec<SectionChoice>,
    policy: Table,
    csv_label: String,
    problem: Option<Problem>,
}

fn policy_table(p: &Policy, t: &Tr) -> Table {
    let mut table = Table::new(
        "policy",
        t.t1("exchange-policy-caption", "country", &p.country_code),
        vec![col("section", t.t("col-section"), false), col("shared", t.t("col-shared"), false)],
    );
    for s in ExchangeSection::ALL {
        let shared = p.shared.contains(s);
        let word = if shared { "shared" } else { "withheld" };
        table
            .rows
            .push(vec![Cell::word("exchange-section", s.as_str(), t), Cell::word("exchange-sharing", word, t).class(format!("sharing-{word}"))]);
    }
    table
}

fn render(req: &HttpRequest, session: &Session, viewer: &Viewer, p: &Policy, problem: Option<Problem>) -> Result<HttpResponse, PageError> {
    let c = Chrome::new(req, session, Some(viewer), "exchange-title");
    let t = &c.t;
    let sections = ExchangeSection::ALL
        .iter()
        .map(|s| SectionChoice { code: s.as_str(), label: t.word("exchange-section", s.as_str()), shared: p.shared.contains(s) })
        .collect();
    let updated = match p.updated_at {
        Some(at) => t.t1("exchange-policy-updated", "at", t.moment(at)),
        None => t.t("exchange-policy-never"),
    };
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page =
        ExchangePage { country: p.country_code.clone(), updated, sections, policy: policy_table(p, t), csv_label: t.t("csv-download"), problem, c };
    let mut response = frame::html(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "get_exchange_policy").await?;
    let p = load(&state, &viewer).await?;
    render(&req, &session, &viewer, &p, None)
}

/// The form's fields: `csrf`, `idem` and one `shared` per ticked section (a repeated field,
/// which a struct form cannot hold).
struct PolicyForm {
    csrf: String,
    idem: Option<String>,
    shared: Vec<String>,
}

impl PolicyForm {
    fn parse(body: &[u8]) -> PolicyForm {
        let mut form = PolicyForm { csrf: String::new(), idem: None, shared: Vec::new() };
        for (k, v) in form_urlencoded::parse(body) {
            match k.as_ref() {
                "csrf" => form.csrf = v.into_owned(),
                "idem" => form.idem = Some(v.into_owned()),
                "shared" => form.shared.push(v.into_owned()),
                _ => {}
            }
        }
        form
    }
}

/// Sets the policy: the ticked sections are shared, the others withheld.
async fn put(req: HttpRequest, session: Session, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "put_exchange_policy").await?;
    let form = PolicyForm::parse(&body);
    frame::check_csrf(&req, &session, &form.csrf)?;
    let country = country_of(&viewer)?;
    let parsed: Result<Vec<ExchangeSection>, DomainError> = form
        .shared
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse::<ExchangeSection>().map_err(|_| DomainError::field(format!("/shared/{i}"), "is not a section of the package")))
        .collect();
    let result = match parsed {
        Ok(shared) => {
            let mut codes: Vec<&str> = shared.iter().map(|s| s.as_str()).collect();
            codes.sort_unstable();
            let fingerprint = frame::fingerprint(&[("country", &country), ("shared", &codes.join(","))]);
            let input = put_policy::Input { country_code: country, shared };
            frame::write(
                &state,
                &viewer,
                frame::form_key(form.idem.as_deref()),
                fingerprint,
                move |conn, actor| put_policy::execute(conn, actor, input),
                |policy| (StatusCode::OK, PolicyEnvelope { policy: PolicyView::from(&policy) }),
            )
            .await?
        }
        Err(e) => Err(Problem::of_domain(&e)),
    };
    match result {
        Ok(_) => {
            frame::flash(&session, &viewer.tr().t("exchange-policy-saved"));
            Ok(frame::see_other("/dashboard/exchange"))
        }
        Err(problem) => {
            let p = load(&state, &viewer).await?;
            render(&req, &session, &viewer, &p, Some(problem))
        }
    }
}
