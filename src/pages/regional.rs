//! The regional view (`/dashboard/regional`): the five countries side by side, aggregates
//! only, from the same application query as `GET /api/v1/analytics/regional`
//! (`app::regional::report`). On an instance holding the countries in its own database, a
//! year's aggregates per country; on the regional exchange hub, what the countries sent:
//! per country and ended month, the country's figures as its package states them, and which
//! months are missing or withhold which sections.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::{Datelike, Utc};
use serde::Deserialize;

use crate::analytics::regional::RegionalReport;
use crate::app;
use crate::app::exchange::regional::{CountryMonths, MonthEntry, MonthStatus};
use crate::app::regional::{RegionalView, Source};
use crate::exchange::package::AreaFigures;
use crate::pages::chart::{self, Bar, Chart, Series};
use crate::pages::frame::{self, Chrome, PageError, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::overview::band_colour;
use crate::pages::table::{Cell, Table, col, csv_download};
use crate::state::AppState;
use crate::views::exchange::ExchangeMonthStatus;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/regional", web::get().to(page)).route("/regional.csv", web::get().to(csv));
}

const OPERATION: &str = "get_regional";

#[derive(Debug, Deserialize)]
struct RegionalQuery {
    year: Option<i32>,
    table: Option<String>,
}

async fn report(state: &AppState, viewer: &Viewer, year: Option<i32>) -> Result<RegionalView, PageError> {
    let hub = state.settings.hub;
    app::run(&state.pool, move |conn| app::regional::report(conn, hub, year, Utc::now())).await.map_err(|e| PageError::from_app(&viewer.lang, e))
}

fn f64_of(value: Option<&BigDecimal>) -> Option<f64> {
    value.and_then(ToPrimitive::to_f64)
}

fn band_cell(band: Option<&str>, provisional: bool, t: &Tr) -> Cell {
    match band {
        Some(b) => {
            let mut cell = Cell::word("band", b, t).class(format!("band band-{b}"));
            if provisional {
                cell.shown = t.t1("regional-band-provisional", "band", &cell.shown);
            }
            cell
        }
        None => Cell::text(t.t("no-data")).class("band band-none"),
    }
}

fn countries_table(r: &RegionalReport, t: &Tr) -> Table {
    let mut table = Table::new(
        "countries",
        t.t1("regional-caption", "year", r.year),
        vec![
            col("country", t.t("col-country"), false),
            col("population", t.t("col-population"), true),
            col("sddd_per_million_per_day", t.t("col-sddd"), true),
            col("me_mg_per_capita", t.t("col-me"), true),
            col("dispensing_facilities", t.t("col-dispensing-facilities"), true),
            col("band", t.t("col-band"), false),
        ],
    )
    .with_csv(format!("/dashboard/regional.csv?year={}&table=countries", r.year));
    for c in &r.countries {
        let m = &c.metrics;
        table.rows.push(vec![
            Cell::text(c.name.clone()),
            Cell::dec(c.population.as_ref().map(|p| &p.0), 0, t),
            Cell::dec(m.sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
            Cell::dec(m.me_mg_per_capita.as_ref().map(|d| &d.0), 2, t),
            Cell::int(c.dispensing_facilities, t),
            band_cell(m.band.as_ref().map(|b| b.code.as_str()), m.band.is_some() && m.incomplete, t),
        ]);
    }
    table
}

/// The country's figures of a month as its package states them (`None`: no package, or the
/// availability section withheld).
fn figures_of(m: &MonthEntry) -> Option<&AreaFigures> {
    m.package.as_ref().and_then(|(_, p)| p.availability.as_ref()).map(|a| &a.total)
}

fn sections(list: &[crate::db::enums::ExchangeSection], t: &Tr) -> String {
    list.iter().map(|s| t.word("exchange-section", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// One row per country and ended month: where the month stands and the figures sent.
fn months_table(year: i32, countries: &[CountryMonths], t: &Tr) -> Table {
    let mut table = Table::new(
        "months",
        t.t1("regional-months-caption", "year", year),
        vec![
            col("country", t.t("col-country"), false),
            col("month", t.t("col-month"), false),
            col("status", t.t("col-status"), false),
            col("withheld", t.t("col-withheld"), false),
            col("consumption_mg_base", t.t("col-consumption-mg"), true),
            col("sddd_per_million_per_day", t.t("col-sddd"), true),
            col("me_mg_per_capita", t.t("col-me"), true),
            col("band", t.t("col-band"), false),
            col("sddd_missing_substances", t.t("col-sddd-missing"), false),
            col("sequence", t.t("col-sequence"), true),
        ],
    )
    .with_csv(format!("/dashboard/regional.csv?year={year}&table=months"));
    for c in countries {
        for m in &c.months {
            // The status as the API names it (`ExchangeMonthStatus`), in words on the page.
            let status = ExchangeMonthStatus::from(m.status).as_str();
            let withheld = m.package.as_ref().map(|(_, p)| p.withheld.clone()).unwrap_or_default();
            let f = figures_of(m);
            let dec = |pick: fn(&AreaFigures) -> Option<&crate::domain::decimal::Decimal>, scale: i64| match (f, m.status) {
                (Some(f), _) => Cell::dec(pick(f).map(|d| &d.0), scale, t),
                (None, MonthStatus::Missing) => Cell::text(""),
                (None, _) => Cell::text(t.t("regional-withheld-figure")),
            };
            let missing = f
                .map(|f| {
                    let shown: Vec<String> = f
                        .missing_substances
                        .iter()
                        .map(|s| t.t2("regional-sddd-missing", "substance", &s.inn, "mg", t.dec(&s.consumption_mg_base.0, 0)))
                        .collect();
                    let raw: Vec<String> =
                        f.missing_substances.iter().map(|s| format!("{}:{}", s.inn, crate::pages::table::exact(&s.consumption_mg_base.0))).collect();
                    Cell { raw: raw.join(";"), shown: shown.join("; "), ..Cell::default() }
                })
                .unwrap_or_default();
            table.rows.push(vec![
                Cell::text(c.name.clone()),
                Cell::text(crate::exchange::package::month_text(m.month)),
                Cell::word("exchange-status", status, t).class(format!("exchange-{status}")),
                Cell { raw: withheld.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(";"), shown: sections(&withheld, t), ..Cell::default() },
                dec(|f| f.consumption_mg_base.as_ref(), 0),
                dec(|f| f.sddd_per_million_per_day.as_ref(), 1),
                dec(|f| f.me_mg_per_capita.as_ref(), 3),
                match (f, m.status) {
                    (Some(f), _) => band_cell(f.band.as_deref(), f.band_provisional, t),
                    (None, MonthStatus::Missing) => Cell::text(""),
                    (None, _) => Cell::text(t.t("regional-withheld-figure")),
                },
                missing,
                m.package.as_ref().map(|(r, _)| Cell::int(r.sequence, t)).unwrap_or_default(),
            ]);
        }
    }
    table
}

/// Per country: the months received, missing and withholding sections.
fn coverage_table(year: i32, countries: &[CountryMonths], t: &Tr) -> Table {
    let mut table = Table::new(
        "coverage",
        t.t1("regional-coverage-caption", "year", year),
        vec![
            col("country", t.t("col-country"), false),
            col("received", t.t("col-received-months"), true),
            col("missing_months", t.t("col-missing-months"), false),
            col("withheld_months", t.t("col-withheld-months"), false),
        ],
    )
    .with_csv(format!("/dashboard/regional.csv?year={year}&table=coverage"));
    for c in countries {
        let received = c.months.iter().filter(|m| m.package.is_some()).count() as i64;
        let missing: Vec<String> =
            c.months.iter().filter(|m| m.status == MonthStatus::Missing).map(|m| crate::exchange::package::month_text(m.month)).collect();
        let withheld: Vec<(String, String, String)> = c
            .months
            .iter()
            .filter_map(|m| {
                let (_, p) = m.package.as_ref()?;
                (!p.withheld.is_empty()).then(|| {
                    let month = crate::exchange::package::month_text(m.month);
                    let raw = p.withheld.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("+");
                    (month, raw, sections(&p.withheld, t))
                })
            })
            .collect();
        table.rows.push(vec![
            Cell::text(c.name.clone()),
            Cell::int(received, t),
            Cell { raw: missing.join(";"), shown: if missing.is_empty() { t.t("regional-none") } else { missing.join(", ") }, ..Cell::default() },
            Cell {
                raw: withheld.iter().map(|(m, raw, _)| format!("{m}:{raw}")).collect::<Vec<_>>().join(";"),
                shown: if withheld.is_empty() {
                    t.t("regional-none")
                } else {
                    withheld
                        .iter()
                        .map(|(m, _, shown)| t.t2("regional-withheld-sections", "month", m, "sections", shown))
                        .collect::<Vec<_>>()
                        .join("; ")
                },
                ..Cell::default()
            },
        ]);
    }
    table
}

/// S-DDD per million per day of each country's months, a line per country (gaps where a
/// month is missing or its figures withheld).
fn months_chart(countries: &[CountryMonths], t: &Tr) -> Chart {
    let labels: Vec<String> = countries.first().map(|c| c.months.iter().map(|m| m.month.label()).collect()).unwrap_or_default();
    let series: Vec<Series> = countries
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            name: c.name.clone(),
            colour: chart::LINE_COLOURS[i % chart::LINE_COLOURS.len()],
            points: c
                .months
                .iter()
                .enumerate()
                .map(|(x, m)| (x as f64, figures_of(m).and_then(|f| f64_of(f.sddd_per_million_per_day.as_ref().map(|d| &d.0)))))
                .collect(),
            steps: false,
        })
        .collect();
    chart::lines(&t.t("col-sddd"), &series, &|x| {
        labels.get(x.round().max(0.0) as usize).filter(|_| (x - x.round()).abs() < 0.01).cloned().unwrap_or_default()
    })
}

/// The tables of the view (the page's and the CSV's).
fn tables(r: &RegionalView, t: &Tr) -> Vec<Table> {
    match &r.source {
        Source::Database(report) => vec![countries_table(report, t)],
        Source::Hub(h) => vec![months_table(r.year, &h.countries, t), coverage_table(r.year, &h.countries, t)],
    }
}

#[derive(Template)]
#[template(path = "regional.html")]
struct RegionalPage {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    /// The chart's name on its `<figure>`.
    chart_name: &'static str,
    note: String,
    chart: Chart,
    chart_caption: String,
    tables: Vec<Table>,
    csv_label: String,
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<RegionalQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let r = report(&state, &viewer, q.year).await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "regional-title");
    let t = &c.t;
    let this_year = r.today.year();
    let (chart_name, note, chart, chart_caption) = match &r.source {
        Source::Database(report) => {
            let mut ranked: Vec<_> = report.countries.iter().collect();
            ranked.sort_by(|a, b| b.metrics.sddd_per_million_per_day.cmp(&a.metrics.sddd_per_million_per_day));
            let bars: Vec<Bar> = ranked
                .iter()
                .map(|x| {
                    let value = x.metrics.sddd_per_million_per_day.as_ref().map(|d| &d.0);
                    let band = x.metrics.band.as_ref().map(|b| t.word("band", &b.code)).unwrap_or_else(|| t.t("no-data"));
                    Bar {
                        label: x.name.clone(),
                        value: f64_of(value),
                        colour: band_colour(x.metrics.band.as_ref().map(|b| b.code.as_str())),
                        note: format!("{} · {band}", t.opt(value, 1)),
                    }
                })
                .collect();
            ("countries", t.t("regional-note"), chart::ranked_bars(&t.t("col-sddd"), &bars, &t.t("no-data")), t.t("regional-chart"))
        }
        Source::Hub(h) => ("months", t.t1("regional-hub-note", "date", t.date(r.today)), months_chart(&h.countries, t), t.t("regional-hub-chart")),
    };
    let tables = tables(&r, t);
    frame::html(&RegionalPage {
        year: r.year,
        years: (this_year - 4..=this_year).rev().collect(),
        chart_name,
        note,
        chart,
        chart_caption,
        tables,
        csv_label: t.t("csv-download"),
        c,
    })
}

async fn csv(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<RegionalQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let r = report(&state, &viewer, q.year).await?;
    let tables = tables(&r, &viewer.tr());
    // The first table of the view unless one is named.
    let id = q.table.clone().unwrap_or_else(|| tables.first().map(|t| t.id.to_owned()).unwrap_or_default());
    csv_download(&format!("regional-{}", r.year), &id, &tables.iter().collect::<Vec<_>>(), &viewer.lang)
}
