//! The regulator's pages: the flag list with filters and counts by rule
//! (`/dashboard/flags`), one flag with its evidence, the facility's balance over time, the
//! patient's or prescriber's dispensings and the review actions (`/dashboard/flags/{id}`),
//! and the rules with their versions, parameters and mode (`/dashboard/rules`). Reads and
//! writes go through `app::flags` like `GET|PATCH /api/v1/flags`.

use std::collections::{BTreeMap, HashMap};

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::Value;

use crate::app;
use crate::app::error::DomainError;
use crate::app::flags::{self, comment, review};
use crate::db::enums::{CommentVisibility, FlagStatus, RuleMode, Severity, SubjectType, Vocabulary};
use crate::db::ledger;
use crate::db::models::country::Country;
use crate::db::models::dispensing::{Dispensing, DispensingFilter};
use crate::db::models::facility::Facility;
use crate::db::models::flag::{Flag, FlagEvent, FlagFilter};
use crate::db::models::product::Product;
use crate::db::models::region::Region;
use crate::db::models::rule::Rule;
use crate::domain::ids::{FacilityId, FlagId, ProductId, RegionId, UserId};
use crate::domain::period::local_midnight;
use crate::extract;
use crate::pages::chart::{self, Bar, Chart, Series};
use crate::pages::frame::{self, Chrome, PageError, Problem, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::table::{Cell, Table, col, csv_download};
use crate::state::AppState;
use crate::views::flags::{CommentRequest, FlagPatchRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/flags", web::get().to(list))
        .route("/flags.csv", web::get().to(list_csv))
        .route("/flags/{id}", web::get().to(detail))
        .route("/flags/{id}/review", web::post().to(review_flag))
        .route("/flags/{id}/comments", web::post().to(comment_flag))
        .route("/rules", web::get().to(rules))
        .route("/rules.csv", web::get().to(rules_csv));
}

/// Flags per page of the list.
const PER_PAGE: i64 = 50;

#[derive(Debug, Deserialize, Default, Clone)]
pub struct FlagQuery {
    pub rule: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub region_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub table: Option<String>,
}

fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filter of a query; a value that is not one of its vocabulary is refused, naming it.
fn filter_of(q: &FlagQuery, viewer: &Viewer) -> Result<FlagFilter, PageError> {
    let bad = |name: &str, detail: &str| PageError::Bad {
        lang: viewer.lang.clone(),
        problem: Problem {
            code: "validation_failed".into(),
            detail: format!("{name}: {detail}"),
            errors: vec![(name.to_owned(), detail.to_owned())],
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
    };
    let date = |name: &str, v: &Option<String>| -> Result<Option<NaiveDate>, PageError> {
        some(v).map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad(name, "must be a date as YYYY-MM-DD"))).transpose()
    };
    Ok(FlagFilter {
        country_code: viewer.caller.country_scope(None).map_err(|e| PageError::from_app(&viewer.lang, e))?,
        status: some(&q.status).map(|s| s.parse::<FlagStatus>().map_err(|_| bad("status", "is not a flag state"))).transpose()?,
        rule_code: some(&q.rule).map(str::to_owned),
        severity: some(&q.severity).map(|s| s.parse::<Severity>().map_err(|_| bad("severity", "is not a severity"))).transpose()?,
        region_id: some(&q.region_id).map(|s| s.parse::<RegionId>().map_err(|_| bad("region_id", "must be a region id"))).transpose()?,
        from: date("from", &q.from)?,
        to: date("to", &q.to)?,
        mode: Some(RuleMode::Active),
        ..FlagFilter::default()
    })
}

/// The names of the regions and facilities flags are about, for their subject's label.
#[derive(Default)]
struct Places {
    regions: HashMap<RegionId, String>,
    facilities: HashMap<FacilityId, String>,
}

impl Places {
    fn of(conn: &mut diesel::PgConnection, flags: &[&Flag]) -> diesel::QueryResult<Places> {
        let mut regions: Vec<RegionId> = flags.iter().filter_map(|f| f.region_id).collect();
        let mut facilities: Vec<FacilityId> = flags.iter().filter_map(|f| f.facility_id).collect();
        regions.sort_unstable();
        regions.dedup();
        facilities.sort_unstable();
        facilities.dedup();
        Ok(Places {
            regions: Region::names(conn, &regions)?.into_iter().collect(),
            facilities: Facility::names(conn, &facilities)?.into_iter().collect(),
        })
    }

    /// "region Almaty", "facility Demo pharmacy 3", "patient 3fa2…": a place by its name,
    /// a person by their (shortened, unless `whole`) identifier.
    fn subject(&self, f: &Flag, t: &Tr, whole: bool) -> String {
        let name = match f.subject_type {
            SubjectType::Region => f.region_id.and_then(|r| self.regions.get(&r)).cloned(),
            SubjectType::Facility => f.facility_id.and_then(|id| self.facilities.get(&id)).cloned(),
            _ => None,
        };
        let id = name.unwrap_or_else(|| if whole { f.subject_id.clone() } else { short(&f.subject_id) });
        format!("{} {}", t.word("subject", f.subject_type.as_str()), id)
    }
}

struct Listed {
    places: Places,
    flags: Vec<Flag>,
    total: i64,
    counts: Vec<(String, Severity, FlagStatus, i64)>,
    regions: Vec<Region>,
    rules: Vec<String>,
}

async fn load_list(state: &AppState, viewer: &Viewer, q: &FlagQuery) -> Result<Listed, PageError> {
    let filter = filter_of(q, viewer)?;
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let actor = viewer.actor();
    let country = viewer.caller.country_code.clone();
    app::run(&state.pool, move |conn| {
        let listed = flags::list::execute(conn, &actor, filter, (page - 1) * PER_PAGE, PER_PAGE)?;
        let regions = match &country {
            Some(c) => Region::of_country(conn, c)?,
            None => Vec::new(),
        };
        let rules = match &country {
            Some(c) => Rule::of_country(conn, c)?.into_iter().map(|r| r.code).collect(),
            None => Vec::new(),
        };
        let places = Places::of(conn, &listed.flags.iter().collect::<Vec<_>>())?;
        Ok(Listed { places, flags: listed.flags, total: listed.total, counts: listed.counts, regions, rules })
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))
}

/// Counts by rule: total and per severity, and how many are still open.
fn counts_table(l: &Listed, t: &Tr) -> Table {
    let mut by_rule: BTreeMap<&str, [i64; 5]> = BTreeMap::new();
    for (rule, severity, status, n) in &l.counts {
        let e = by_rule.entry(rule.as_str()).or_default();
        e[0] += n;
        e[match severity {
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }] += n;
        if matches!(status, FlagStatus::Open | FlagStatus::UnderReview) {
            e[4] += n;
        }
    }
    let mut table = Table::new(
        "counts",
        t.t("flags-counts-caption"),
        vec![
            col("rule", t.t("col-rule"), false),
            col("flags", t.t("col-flags"), true),
            col("high", t.t("severity-high"), true),
            col("medium", t.t("severity-medium"), true),
            col("low", t.t("severity-low"), true),
            col("open_or_under_review", t.t("col-open"), true),
        ],
    );
    let mut rows: Vec<_> = by_rule.into_iter().collect();
    rows.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(b.0)));
    for (rule, n) in rows {
        let mut row = vec![Cell::text(rule).link(format!("/dashboard/flags?rule={rule}"))];
        row.extend(n.iter().map(|v| Cell::int(*v, t)));
        table.rows.push(row);
    }
    table
}

fn flags_table(l: &Listed, t: &Tr) -> Table {
    let mut table = Table::new(
        "flags",
        t.t1("flags-list-caption", "count", t.int(l.total)),
        vec![
            col("id", t.t("col-id"), true),
            col("rule", t.t("col-rule"), false),
            col("rule_version", t.t("col-version"), true),
            col("severity", t.t("col-severity"), false),
            col("status", t.t("col-status"), false),
            col("title", t.t("col-title"), false),
            col("subject", t.t("col-subject"), false),
            col("period_from", t.t("col-from"), false),
            col("period_to", t.t("col-to"), false),
        ],
    );
    for f in &l.flags {
        table.rows.push(vec![
            Cell::int(f.id.get(), t).link(format!("/dashboard/flags/{}", f.id)),
            Cell::text(f.rule_code.clone()),
            Cell::int(f.rule_version.into(), t),
            Cell::word("severity", f.severity.as_str(), t).class(format!("sev sev-{}", f.severity.as_str())),
            Cell::word("status", f.status.as_str(), t),
            Cell::text(f.title.clone()).link(format!("/dashboard/flags/{}", f.id)),
            Cell::text(l.places.subject(f, t, false)),
            Cell::date(f.period_from, t),
            Cell::date(f.period_to, t),
        ]);
    }
    table
}

/// Long identifiers (pseudonyms) shortened for display.
fn short(id: &str) -> String {
    if id.chars().count() > 16 { format!("{}…", id.chars().take(12).collect::<String>()) } else { id.to_owned() }
}

#[derive(Template)]
#[template(path = "flags.html")]
struct FlagsPage {
    c: Chrome,
    q: FlagQuery,
    rules: Vec<String>,
    severities: Vec<String>,
    statuses: Vec<String>,
    regions: Vec<(String, String)>,
    counts: Table,
    counts_chart: Chart,
    flags: Table,
    csv_label: String,
    prev: Option<String>,
    next: Option<String>,
}

fn query_string(q: &FlagQuery) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("rule", &q.rule), ("severity", &q.severity), ("status", &q.status), ("region_id", &q.region_id), ("from", &q.from), ("to", &q.to)]
    {
        if let Some(v) = some(v) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<FlagQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "update_flag").await?;
    let q = q.into_inner();
    let l = load_list(&state, &viewer, &q).await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "flags-title");
    let t = &c.t;
    let qs = query_string(&q);
    let counts = counts_table(&l, t).with_csv(format!("/dashboard/flags.csv?table=counts&{qs}"));
    let bars: Vec<Bar> = counts
        .rows
        .iter()
        .map(|r| Bar { label: r[0].shown.clone(), value: r[1].raw.parse().ok(), colour: chart::LINE_COLOURS[0], note: r[1].shown.clone() })
        .collect();
    let counts_chart = chart::ranked_bars(&t.t("col-flags"), &bars, &t.t("no-data"));
    let flags = flags_table(&l, t).with_csv(format!("/dashboard/flags.csv?table=flags&{qs}&page={}", q.page.unwrap_or(1)));
    let page = q.page.unwrap_or(1).max(1);
    let link = |p: i64| format!("/dashboard/flags?{qs}&page={p}");
    let page = FlagsPage {
        rules: l.rules.clone(),
        severities: Severity::values(),
        statuses: FlagStatus::values(),
        regions: l.regions.iter().map(|r| (r.id.to_string(), r.name.clone())).collect(),
        counts,
        counts_chart,
        flags,
        csv_label: t.t("csv-download"),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PER_PAGE < l.total).then(|| link(page + 1)),
        q,
        c,
    };
    frame::html(&page)
}

async fn list_csv(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<FlagQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "update_flag").await?;
    let l = load_list(&state, &viewer, &q).await?;
    let t = viewer.tr();
    csv_download("flags", q.table.as_deref().unwrap_or(""), &[&counts_table(&l, &t), &flags_table(&l, &t)], &viewer.lang)
}

/// One flag and what its page shows beside it.
struct Detail {
    flag: Flag,
    places: Places,
    /// Whether the viewer sees the evidence (a facility's own users see the flag only).
    with_evidence: bool,
    events: Vec<FlagEvent>,
    ledger: Vec<ledger::LedgerRow>,
    products: Vec<Product>,
    dispensings: Vec<Dispensing>,
}

async fn load_detail(state: &AppState, viewer: &Viewer, id: FlagId) -> Result<Detail, PageError> {
    let actor = viewer.actor();
    app::run(&state.pool, move |conn| {
        let flags::read::Readable { flag, with_evidence, events } = flags::read::detail(conn, &actor, id)?;
        let places = Places::of(conn, &[&flag])?;
        if !with_evidence {
            return Ok(Detail { flag, places, with_evidence, events, ledger: Vec::new(), products: Vec::new(), dispensings: Vec::new() });
        }
        // The evidence window: 90 days before the flag's period to a month after, in the
        // country's days.
        let zone = Country::zone_of(conn, &flag.country_code)?;
        let from = local_midnight(zone, flag.period_from - Duration::days(90));
        let to = local_midnight(zone, flag.period_to + Duration::days(31));
        let ledger = match flag.facility_id {
            Some(f) => crate::pages::ledger::window(conn, f, zone, from, to, 1000)?,
            None => Vec::new(),
        };
        let dispensings = match flag.subject_type {
            SubjectType::Patient | SubjectType::Prescriber => {
                let mut filter =
                    DispensingFilter { country_code: Some(flag.country_code.clone()), from: Some(from), to: Some(to), ..DispensingFilter::default() };
                if flag.subject_type == SubjectType::Patient {
                    filter.patient_pseudonym = hex::decode(&flag.subject_id).ok();
                } else {
                    filter.prescriber_id = Some(flag.subject_id.clone());
                }
                if filter.patient_pseudonym.is_none() && filter.prescriber_id.is_none() {
                    Vec::new()
                } else {
                    Dispensing::page(conn, &filter, 0, 500)?.0
                }
            }
            _ => Vec::new(),
        };
        let mut ids: Vec<ProductId> = ledger.iter().map(|r| r.product_id).chain(dispensings.iter().map(|d| d.product_id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let products = Product::find_many(conn, &ids)?;
        Ok(Detail { flag, places, with_evidence, events, ledger, products, dispensings })
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))
}

/// The pairs of a JSON object, values written compactly.
fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), shown)
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![(String::new(), other.to_string())],
    }
}

#[derive(Template)]
#[template(path = "flag.html")]
struct FlagPage {
    c: Chrome,
    flag: Flag,
    severity: String,
    status: String,
    subject: String,
    period: String,
    figures: Vec<(String, String)>,
    thresholds: Vec<(String, String)>,
    records: Vec<(String, String)>,
    params: Vec<(String, String)>,
    with_evidence: bool,
    events: Table,
    balance_chart: Option<Chart>,
    ledger: Table,
    timeline: Option<Table>,
    csv_label: String,
    can_review: bool,
    moves: Vec<String>,
    problem: Option<Problem>,
}

fn product_name(products: &[Product], id: ProductId) -> String {
    products.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.name.clone())
}

fn render_flag(req: &HttpRequest, session: &Session, viewer: &Viewer, d: Detail, problem: Option<Problem>) -> Result<HttpResponse, PageError> {
    let c = Chrome::new(req, session, Some(viewer), "flag-title");
    let t = &c.t;
    let flag = d.flag;
    let mut events = Table::new(
        "events",
        t.t("flag-events-caption"),
        vec![
            col("at", t.t("col-at"), false),
            col("action", t.t("col-action"), false),
            col("status", t.t("col-status"), false),
            col("note", t.t("col-note"), false),
        ],
    );
    for e in &d.events {
        let moved = match (e.from_status, e.to_status) {
            (Some(a), Some(b)) => format!("{} → {}", t.word("status", a.as_str()), t.word("status", b.as_str())),
            (None, Some(b)) => t.word("status", b.as_str()),
            _ => String::new(),
        };
        let note = match e.visibility {
            Some(v) => format!("[{}] {}", t.word("visibility", v.as_str()), e.note.clone().unwrap_or_default()),
            None => e.note.clone().unwrap_or_default(),
        };
        events.rows.push(vec![Cell::moment(e.created_at, t), Cell::word("action", e.action.as_str(), t), Cell::text(moved), Cell::text(note)]);
    }
    // The balance over time: the ledger's running balance, oldest first, per product.
    let mut ledger = Table::new(
        "ledger",
        t.t("flag-ledger-caption"),
        vec![
            col("occurred_at", t.t("col-at"), false),
            col("product", t.t("col-product"), false),
            col("kind", t.t("col-kind"), false),
            col("delta_units", t.t("col-delta"), true),
            col("balance_after_units", t.t("col-balance"), true),
        ],
    );
    let mut rows = d.ledger.clone();
    rows.reverse();
    let start = rows.first().map(|r| r.occurred_at);
    let mut by_product: BTreeMap<ProductId, Vec<(f64, Option<f64>)>> = BTreeMap::new();
    for r in &rows {
        ledger.rows.push(vec![
            Cell::moment(r.occurred_at, t),
            Cell::text(product_name(&d.products, r.product_id)),
            Cell::word("kind", r.kind.as_str(), t),
            Cell::int(r.delta_units, t),
            Cell::int(r.balance_after_units, t),
        ]);
        let x = start.map_or(0.0, |s| (r.occurred_at - s).num_seconds() as f64 / 86_400.0);
        by_product.entry(r.product_id).or_default().push((x, Some(r.balance_after_units as f64)));
    }
    let balance_chart = start.map(|s| {
        let series: Vec<Series> = by_product
            .into_iter()
            .enumerate()
            .map(|(i, (p, points))| Series { name: product_name(&d.products, p), colour: chart::LINE_COLOURS[i % 4], points, steps: true })
            .collect();
        let day0 = s.date_naive();
        let tr = t.clone();
        // A date under whole days only: the axis may put ticks between them.
        chart::lines(&t.t("col-balance"), &series, &move |x| {
            if (x - x.round()).abs() < 0.01 { tr.date(day0 + Duration::days(x.round() as i64)) } else { String::new() }
        })
    });
    let timeline = (!d.dispensings.is_empty()).then(|| {
        let mut table = Table::new(
            "timeline",
            t.t("flag-timeline-caption"),
            vec![
                col("dispensed_at", t.t("col-at"), false),
                col("facility_id", t.t("col-facility"), true),
                col("prescriber_id", t.t("col-prescriber"), false),
                col("product", t.t("col-product"), false),
                col("quantity_units", t.t("col-units"), true),
                col("days_supply", t.t("col-days-supply"), true),
                col("indication", t.t("col-indication"), false),
                col("daily_mme", t.t("col-daily-mme"), true),
            ],
        );
        let mut list = d.dispensings.clone();
        list.sort_by_key(|x| x.dispensed_at);
        for x in &list {
            table.rows.push(vec![
                Cell::moment(x.dispensed_at, t),
                Cell::int(x.facility_id.get(), t),
                Cell::text(x.prescriber_id.clone()),
                Cell::text(product_name(&d.products, x.product_id)),
                Cell::int(x.quantity_units, t),
                Cell::int(x.days_supply.into(), t),
                Cell::word("indication", x.indication.as_str(), t),
                Cell::dec(x.daily_mme.as_ref(), 1, t),
            ]);
        }
        table
    });
    let can_review = crate::app::policy::admit(viewer.caller.role, "update_flag").is_ok() && viewer.caller.role == crate::db::enums::Role::Regulator;
    let moves = FlagStatus::values().into_iter().filter(|s| s.parse::<FlagStatus>().is_ok_and(|to| flag.status.can_move_to(to))).collect();
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = FlagPage {
        severity: t.word("severity", flag.severity.as_str()),
        status: t.word("status", flag.status.as_str()),
        subject: d.places.subject(&flag, t, true),
        period: format!("{} – {}", t.date(flag.period_from), t.date(flag.period_to)),
        figures: if d.with_evidence { pairs(&flag.evidence["figures"]) } else { Vec::new() },
        thresholds: if d.with_evidence { pairs(&flag.evidence["thresholds"]) } else { Vec::new() },
        records: if d.with_evidence { pairs(&flag.evidence["records"]) } else { Vec::new() },
        params: if d.with_evidence { pairs(&flag.params) } else { Vec::new() },
        with_evidence: d.with_evidence,
        events,
        balance_chart,
        ledger,
        timeline,
        csv_label: t.t("csv-download"),
        can_review,
        moves,
        problem,
        flag,
        c,
    };
    let mut response = frame::html(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn detail(req: HttpRequest, session: Session, state: web::Data<AppState>, path: web::Path<FlagId>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "get_flag").await?;
    let d = load_detail(&state, &viewer, path.into_inner()).await?;
    render_flag(&req, &session, &viewer, d, None)
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    idem: Option<String>,
    status: String,
    note: Option<String>,
}

/// The review actions of `PATCH /api/v1/flags/{id}`: under review, confirm, dismiss (with a
/// reason), reopen.
async fn review_flag(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<FlagId>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "update_flag").await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let id = path.into_inner();
    let ReviewForm { idem, status, note, .. } = form.into_inner();
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let fingerprint = frame::fingerprint(&[("flag", &id.to_string()), ("status", &status), ("note", note.as_deref().unwrap_or(""))]);
    // The API's request, checked by its own rules: the same reason length and characters.
    let parsed = status.parse::<FlagStatus>().map_err(|_| DomainError::field("/status", "is not a flag state")).and_then(|s| {
        let request = FlagPatchRequest { status: Some(s), note, assigned_to: None };
        extract::validate(&request)?;
        review::Input::parse(id, request.status, request.note, request.assigned_to.map(|a| a.map(UserId)))
    });
    let result = match parsed {
        Ok(input) => {
            frame::write(
                &state,
                &viewer,
                frame::form_key(idem.as_deref()),
                fingerprint,
                move |conn, actor| review::execute(conn, actor, input),
                |r| (StatusCode::OK, serde_json::json!({"status": r.flag.status})),
            )
            .await?
        }
        Err(e) => Err(Problem::of_domain(&e)),
    };
    after_write(&req, &session, &state, &viewer, id, result, "flag-reviewed").await
}

#[derive(Deserialize)]
struct CommentForm {
    csrf: String,
    idem: Option<String>,
    body: String,
    visibility: String,
}

async fn comment_flag(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<FlagId>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "create_flag_comment").await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let id = path.into_inner();
    let CommentForm { idem, body, visibility, .. } = form.into_inner();
    let fingerprint = frame::fingerprint(&[("flag", &id.to_string()), ("body", &body), ("visibility", &visibility)]);
    // The API's request, checked by its own rules.
    let parsed = visibility.parse::<CommentVisibility>().map_err(|_| DomainError::field("/visibility", "must be internal or official")).and_then(
        |visibility| {
            let request = CommentRequest { body, visibility };
            extract::validate(&request)?;
            Ok(comment::Input { flag_id: id, body: request.body, visibility: request.visibility })
        },
    );
    let result = match parsed {
        Ok(input) => {
            frame::write(
                &state,
                &viewer,
                frame::form_key(idem.as_deref()),
                fingerprint,
                move |conn, actor| comment::execute(conn, actor, input),
                |e| (StatusCode::CREATED, serde_json::json!({"id": e.id})),
            )
            .await?
        }
        Err(e) => Err(Problem::of_domain(&e)),
    };
    after_write(&req, &session, &state, &viewer, id, result, "flag-commented").await
}

async fn after_write(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    viewer: &Viewer,
    id: FlagId,
    result: Result<Value, Problem>,
    done_key: &str,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(_) => {
            frame::flash(session, &viewer.tr().t(done_key));
            Ok(frame::see_other(&format!("/dashboard/flags/{id}")))
        }
        Err(problem) => {
            let d = load_detail(state, viewer, id).await?;
            render_flag(req, session, viewer, d, Some(problem))
        }
    }
}

fn rules_table(rules: &[Rule], t: &Tr) -> Table {
    let mut table = Table::new(
        "rules",
        t.t("rules-caption"),
        vec![
            col("rule", t.t("col-rule"), false),
            col("category", t.t("col-category"), false),
            col("version", t.t("col-version"), true),
            col("mode", t.t("col-mode"), false),
            col("enabled", t.t("col-enabled"), false),
            col("params", t.t("col-params"), false),
            col("description", t.t("col-description"), false),
        ],
    )
    .with_csv("/dashboard/rules.csv?table=rules".to_owned());
    for r in rules {
        table.rows.push(vec![
            Cell::text(r.code.clone()).link(format!("/dashboard/flags?rule={}", r.code)),
            Cell::word("category", r.category.as_str(), t),
            Cell::int(r.version.into(), t),
            Cell::word("mode", r.mode.as_str(), t).class(format!("mode-{}", r.mode.as_str())),
            Cell::word("enabled", if r.enabled { "yes" } else { "no" }, t),
            Cell::text(pairs(&r.params).into_iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join("; ")),
            Cell::text(r.description.clone()),
        ]);
    }
    table
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    c: Chrome,
    rules: Table,
    csv_label: String,
}

async fn load_rules(state: &AppState, viewer: &Viewer) -> Result<Vec<Rule>, PageError> {
    let country = viewer.caller.country_scope(None).map_err(|e| PageError::from_app(&viewer.lang, e))?;
    app::run(&state.pool, move |conn| {
        Ok(match country {
            Some(c) => Rule::of_country(conn, &c)?,
            None => Vec::new(),
        })
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))
}

async fn rules(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "list_rules").await?;
    let list = load_rules(&state, &viewer).await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "rules-title");
    let rules = rules_table(&list, &c.t);
    frame::html(&RulesPage { csv_label: c.t.t("csv-download"), rules, c })
}

async fn rules_csv(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "list_rules").await?;
    let list = load_rules(&state, &viewer).await?;
    csv_download("rules", "rules", &[&rules_table(&list, &viewer.tr())], &viewer.lang)
}
