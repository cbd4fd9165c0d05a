//! The regional view (`/dashboard/regional`): the five countries side by side, aggregates
//! only — the query of `GET /api/v1/analytics/regional`, nothing below country level.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use bigdecimal::ToPrimitive;
use chrono::{Datelike, Utc};
use serde::Deserialize;

use crate::analytics::{self, regional::RegionalReport};
use crate::app;
use crate::domain::period::Tz;
use crate::pages::chart::{self, Bar, Chart};
use crate::pages::frame::{self, Chrome, PageError, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::overview::band_colour;
use crate::pages::table::{Cell, Table, col, csv_download};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/regional", web::get().to(page)).route("/regional.csv", web::get().to(csv));
}

const OPERATION: &str = "get_regional";

#[derive(Debug, Deserialize)]
struct RegionalQuery {
    year: Option<i32>,
}

async fn report(state: &AppState, viewer: &Viewer, year: i32) -> Result<RegionalReport, PageError> {
    app::run(&state.pool, move |conn| {
        let now = Utc::now();
        let range = analytics::report_range(Some(year), None, None, now.date_naive(), Tz::UTC)?;
        Ok(analytics::regional::report(conn, year, range, now)?)
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))
}

fn table(r: &RegionalReport, t: &Tr) -> Table {
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
    .with_csv(format!("/dashboard/regional.csv?year={}", r.year));
    for c in &r.countries {
        let m = &c.metrics;
        table.rows.push(vec![
            Cell::text(c.name.clone()),
            Cell::dec(c.population.as_ref().map(|p| &p.0), 0, t),
            Cell::dec(m.sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
            Cell::dec(m.me_mg_per_capita.as_ref().map(|d| &d.0), 2, t),
            Cell::int(c.dispensing_facilities, t),
            match &m.band {
                Some(b) => Cell::word("band", &b.code, t).class(format!("band band-{}", b.code)),
                None => Cell::text(t.t("no-data")).class("band band-none"),
            },
        ]);
    }
    table
}

#[derive(Template)]
#[template(path = "regional.html")]
struct RegionalPage {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    chart: Chart,
    countries: Table,
    csv_label: String,
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<RegionalQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let this_year = Utc::now().year();
    let year = q.year.unwrap_or(this_year);
    let r = report(&state, &viewer, year).await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "regional-title");
    let t = &c.t;
    let mut ranked: Vec<_> = r.countries.iter().collect();
    ranked.sort_by(|a, b| b.metrics.sddd_per_million_per_day.cmp(&a.metrics.sddd_per_million_per_day));
    let bars: Vec<Bar> = ranked
        .iter()
        .map(|x| {
            let value = x.metrics.sddd_per_million_per_day.as_ref().map(|d| &d.0);
            let band = x.metrics.band.as_ref().map(|b| t.word("band", &b.code)).unwrap_or_else(|| t.t("no-data"));
            Bar {
                label: x.name.clone(),
                value: value.and_then(ToPrimitive::to_f64),
                colour: band_colour(x.metrics.band.as_ref().map(|b| b.code.as_str())),
                note: format!("{} · {band}", t.opt(value, 1)),
            }
        })
        .collect();
    let chart = chart::ranked_bars(&t.t("col-sddd"), &bars, &t.t("no-data"));
    let countries = table(&r, t);
    frame::html(&RegionalPage { year, years: (this_year - 4..=this_year).rev().collect(), chart, countries, csv_label: t.t("csv-download"), c })
}

async fn csv(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<RegionalQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let year = q.year.unwrap_or(Utc::now().year());
    let r = report(&state, &viewer, year).await?;
    csv_download(&format!("regional-{year}"), "countries", &[&table(&r, &viewer.tr())], &viewer.lang)
}
