//! The ministry's country at a glance (`/dashboard/overview`): S-DDD per million per day
//! and ME per capita by region with adequacy bands, the monthly trend, estimate utilization
//! with its exhaustion forecast, stock-outs and access points, the estimate proposal, and
//! INCB Forms A and C. Each figure comes from the same analytics query as its API endpoint;
//! each chart has its table and CSV (`/dashboard/overview.csv?table=…`).

use std::sync::Arc;

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::{Datelike, Utc};
use plotters::style::RGBColor;
use serde::Deserialize;

use crate::analytics::availability::{AreaMetrics, AvailabilityReport, AvailabilityRequest, GroupKey, Grouping};
use crate::analytics::proposal::{EstimateProposal, ProposalRequest};
use crate::analytics::{self, estimates::EstimateUseReport, stock_outs::StockOutReport};
use crate::app;
use crate::app::error::AppError;
use crate::db::models::country::Country;
use crate::db::models::product::Product;
use crate::db::models::substance::Substance;
use crate::db::reports::flows::DateRange;
use crate::domain::forecast::{self, Exhaustion};
use crate::domain::ids::{ProductId, SubstanceId};
use crate::domain::period::today_in;
use crate::pages::chart::{self, Bar, Chart, Series};
use crate::pages::frame::{self, Chrome, PageError, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::table::{Cell, Table, col, csv_download};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/overview", web::get().to(page))
        .route("/overview.csv", web::get().to(csv))
        .route("/reports/form-c.csv", web::get().to(form_c))
        .route("/reports/form-a.csv", web::get().to(form_a));
}

/// The operation that admits the page (the same as `GET /api/v1/analytics/availability`).
const OPERATION: &str = "get_availability";

#[derive(Debug, Deserialize, Default)]
pub struct OverviewQuery {
    pub year: Option<i32>,
    pub country: Option<String>,
    pub substance_id: Option<SubstanceId>,
    pub table: Option<String>,
}

/// The colour of an adequacy band: a sequential, colour-blind-safe scale (ColorBrewer
/// YlOrBr), darkest for the least availability; the band is always written in words too.
pub fn band_colour(code: Option<&str>) -> RGBColor {
    match code {
        Some("very_low") => RGBColor(153, 52, 4),
        Some("low") => RGBColor(217, 95, 14),
        Some("moderate") => RGBColor(254, 153, 41),
        Some("adequate") => RGBColor(254, 217, 142),
        _ => RGBColor(187, 187, 187),
    }
}

fn f64_of(value: Option<&BigDecimal>) -> Option<f64> {
    value.and_then(ToPrimitive::to_f64)
}

/// Everything the page shows, computed once for the page and its CSV downloads.
struct Figures {
    country: String,
    /// The country's today.
    today: chrono::NaiveDate,
    year: i32,
    period: DateRange,
    partial: bool,
    availability: Arc<AvailabilityReport>,
    by_month: Arc<AvailabilityReport>,
    estimates: EstimateUseReport,
    stock: StockOutReport,
    products: Vec<Product>,
    substances: Vec<Substance>,
    proposal: Result<EstimateProposal, String>,
    proposal_substance: Option<SubstanceId>,
    countries: Vec<Country>,
}

async fn figures(state: &web::Data<AppState>, viewer: &Viewer, q: &OverviewQuery) -> Result<Figures, PageError> {
    let lang = viewer.lang.clone();
    let requested = q.country.as_deref().filter(|c| !c.is_empty());
    let country = viewer.caller.country_scope(requested).map_err(|e| PageError::from_app(&lang, e))?;
    let shared = state.clone();
    let (year, substance_id) = (q.year, q.substance_id);
    app::run(&state.pool, move |conn| {
        let countries = Country::all(conn)?;
        // The admin names a country; without one, the first.
        let country =
            country.or_else(|| countries.first().map(|c| c.code.clone())).ok_or_else(|| AppError::Internal(anyhow::anyhow!("no countries")))?;
        // The country's year (this one unless asked), cut at its local midnights; a year in
        // progress is partial.
        let now = Utc::now();
        let today = today_in(Country::zone_of(conn, &country)?, now);
        let year = year.unwrap_or(today.year());
        let country_period = analytics::country_period(conn, &country, Some(year), None, None, now)?;
        let (period, partial) = (country_period.range, country_period.partial);
        let of = |group_by| AvailabilityRequest { country: country.clone(), region_id: None, range: period, partial, group_by };
        let availability = app::cache::availability(&shared.availability_reports, conn, &of(None), today)?;
        let by_month = app::cache::availability(&shared.availability_reports, conn, &of(Some(Grouping::Month)), today)?;
        let estimates = analytics::estimates::report(conn, &country, year, period)?;
        let stock = analytics::stock_outs::report(
            conn,
            &analytics::stock_outs::StockOutRequest { country: country.clone(), region_id: None, max_days_left: 30, now },
        )?;
        let mut ids: Vec<ProductId> = stock.stock_outs.iter().chain(stock.low_stock.iter()).map(|s| s.product_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let products = Product::find_many(conn, &ids)?;
        let substances = Substance::all(conn)?;
        let proposal_substance = substance_id.or_else(|| substances.iter().find(|s| s.inn == "morphine").map(|s| s.id));
        let proposal = match proposal_substance {
            Some(id) => {
                let request = ProposalRequest {
                    country: country.clone(),
                    substance_id: id,
                    year: year + 1,
                    reference_me_mg_per_capita: None,
                    reserve_months: None,
                    now,
                };
                analytics::proposal::propose(conn, &request).map_err(|e| match AppError::from(e) {
                    AppError::Domain(d) => d.detail.clone(),
                    AppError::Internal(e) => {
                        tracing::error!(error = ?e, "estimate proposal failed");
                        "—".to_owned()
                    }
                })
            }
            None => Err("—".to_owned()),
        };
        Ok(Figures {
            partial,
            country,
            today,
            year,
            period,
            availability,
            by_month,
            estimates,
            stock,
            products,
            substances,
            proposal,
            proposal_substance,
            countries,
        })
    })
    .await
    .map_err(|e| PageError::from_app(&lang, e))
}

fn band_cell(metrics: &AreaMetrics, t: &Tr) -> Cell {
    match &metrics.band {
        Some(b) => Cell::word("band", &b.code, t).class(format!("band band-{}", b.code)),
        None => Cell { raw: String::new(), shown: t.t("no-data"), class: "band band-none".into(), href: String::new() },
    }
}

/// The tables of the page, in order.
struct Tables {
    regions: Table,
    trend: Table,
    estimates: Table,
    stock_outs: Table,
    low_stock: Table,
    access: Table,
    proposal: Table,
}

fn tables(f: &Figures, t: &Tr, query: &str) -> Tables {
    let csv = |id: &str| format!("/dashboard/overview.csv?table={id}&{query}");
    let mut regions = Table::new(
        "regions",
        t.t("overview-regions-caption"),
        vec![
            col("region", t.t("col-region"), false),
            col("population", t.t("col-population"), true),
            col("sddd_per_million_per_day", t.t("col-sddd"), true),
            col("me_mg_per_capita", t.t("col-me"), true),
            col("dispensed_sddd_per_million_per_day", t.t("col-dispensed-sddd"), true),
            col("band", t.t("col-band"), false),
        ],
    )
    .with_csv(csv("regions"));
    let mut ranked: Vec<_> = f.availability.regions.iter().collect();
    ranked.sort_by(|a, b| b.metrics.sddd_per_million_per_day.cmp(&a.metrics.sddd_per_million_per_day));
    for r in ranked {
        let m = &r.metrics;
        regions.rows.push(vec![
            Cell::text(r.name.clone()),
            Cell::dec(r.population.as_ref().map(|p| &p.0), 0, t),
            Cell::dec(m.sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
            Cell::dec(m.me_mg_per_capita.as_ref().map(|d| &d.0), 2, t),
            Cell::dec(m.dispensed_sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
            band_cell(m, t),
        ]);
    }
    let total = &f.availability.total;
    regions.rows.push(vec![
        // The CSV names the country by its code, the page in the reader's words.
        Cell { raw: f.country.clone(), shown: t.t("overview-country-total"), ..Cell::default() }.class("total"),
        Cell::dec(f.availability.population.as_ref().map(|p| &p.0), 0, t),
        Cell::dec(total.sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
        Cell::dec(total.me_mg_per_capita.as_ref().map(|d| &d.0), 2, t),
        Cell::dec(total.dispensed_sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
        band_cell(total, t),
    ]);

    let mut trend = Table::new(
        "trend",
        t.t("overview-trend-caption"),
        vec![
            col("month", t.t("col-month"), false),
            col("consumption_mg_base", t.t("col-consumption-mg"), true),
            col("dispensed_mg_base", t.t("col-dispensed-mg"), true),
            col("sddd_per_million_per_day", t.t("col-sddd"), true),
            col("dispensed_sddd_per_million_per_day", t.t("col-dispensed-sddd"), true),
        ],
    )
    .with_csv(csv("trend"));
    for g in &f.by_month.groups {
        let GroupKey::Month(month) = g.key else { continue };
        let m = &g.metrics;
        trend.rows.push(vec![
            Cell::text(month.label()),
            Cell::dec(m.consumption_mg_base.as_ref().map(|d| &d.0), 0, t),
            Cell::dec(m.dispensed_mg_base.as_ref().map(|d| &d.0), 0, t),
            Cell::dec(m.sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
            Cell::dec(m.dispensed_sddd_per_million_per_day.as_ref().map(|d| &d.0), 1, t),
        ]);
    }

    let mut estimates = Table::new(
        "estimates",
        t.t("overview-estimates-caption"),
        vec![
            col("substance", t.t("col-substance"), false),
            col("estimate_g", t.t("col-estimate-g"), true),
            col("consumption_g", t.t("col-consumption-g"), true),
            col("received_g", t.t("col-received-g"), true),
            col("utilization_pct", t.t("col-utilization"), true),
            col("runs_out", t.t("col-runs-out"), false),
        ],
    )
    .with_csv(csv("estimates"));
    let days = (f.period.to - f.period.from).num_days() + 1;
    for line in &f.estimates.substances {
        let runs_out = match &line.estimate_g {
            None => Cell::word("forecast", "no_estimate", t),
            Some(e) => match forecast::exhaustion(&e.0, &line.consumption_g.0, f.period.from, days) {
                Exhaustion::NoUse => Cell::word("forecast", "no_use", t),
                Exhaustion::Exceeded => Cell::word("forecast", "exceeded", t).class("warn"),
                Exhaustion::LastsTheYear => Cell::word("forecast", "lasts_the_year", t),
                Exhaustion::RunsOut(day) => Cell::date(day, t).class("warn"),
            },
        };
        estimates.rows.push(vec![
            Cell::text(line.inn.clone()),
            Cell::dec(line.estimate_g.as_ref().map(|d| &d.0), 3, t),
            Cell::dec(Some(&line.consumption_g.0), 3, t),
            Cell::dec(Some(&line.received_g.0), 3, t),
            Cell::dec(line.utilization_pct.as_ref().map(|d| &d.0), 1, t),
            runs_out,
        ]);
    }

    let product = |id: ProductId| f.products.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| p.name.clone());
    let stock_columns = || {
        vec![
            col("facility", t.t("col-facility"), false),
            col("product", t.t("col-product"), false),
            col("balance_units", t.t("col-balance"), true),
            col("days_at_zero", t.t("col-days-at-zero"), true),
            col("daily_rate_units", t.t("col-daily-rate"), true),
            col("days_of_stock_left", t.t("col-days-left"), true),
        ]
    };
    let stock_row = |s: &analytics::stock_outs::StockOut| {
        vec![
            Cell::text(s.facility_name.clone()),
            Cell::text(product(s.product_id)),
            Cell::int(s.balance_units, t),
            s.days_at_zero.map_or_else(|| Cell::text(t.t("no-data")), |d| Cell::int(d, t)),
            Cell::dec(Some(&s.daily_rate_units.0), 2, t),
            Cell::dec(s.days_of_stock_left.as_ref().map(|d| &d.0), 1, t),
        ]
    };
    let mut stock_outs = Table::new("stock_outs", t.t("overview-stockouts-caption"), stock_columns()).with_csv(csv("stock_outs"));
    stock_outs.rows = f.stock.stock_outs.iter().map(stock_row).collect();
    let mut low_stock = Table::new("low_stock", t.t("overview-lowstock-caption"), stock_columns()).with_csv(csv("low_stock"));
    low_stock.rows = f.stock.low_stock.iter().map(stock_row).collect();

    let mut access = Table::new(
        "access_points",
        t.t("overview-access-caption"),
        vec![
            col("region", t.t("col-region"), false),
            col("dispensing_facilities", t.t("col-dispensing-facilities"), true),
            col("population", t.t("col-population"), true),
            col("per_100k", t.t("col-per-100k"), true),
        ],
    )
    .with_csv(csv("access_points"));
    let mut points: Vec<_> = f.stock.access_points.iter().collect();
    points.sort_by(|a, b| a.per_100k.cmp(&b.per_100k));
    for a in points {
        access.rows.push(vec![
            Cell::text(a.name.clone()),
            Cell::int(a.dispensing_facilities, t),
            a.population.map_or_else(|| Cell::text(t.t("no-data")), |p| Cell::int(p, t)),
            Cell::dec(a.per_100k.as_ref().map(|d| &d.0), 2, t),
        ]);
    }

    let mut proposal =
        Table::new("proposal", t.t("overview-proposal-caption"), vec![col("input", t.t("col-input"), false), col("value", t.t("col-value"), true)])
            .with_csv(csv("proposal"));
    if let Ok(p) = &f.proposal {
        let c = &p.consumption_based;
        let m = &p.morbidity_based;
        let r = &p.per_capita_reference;
        let mut push = |key: &'static str, cell: Cell| {
            proposal
                .rows
                .push(vec![Cell { raw: key.to_owned(), shown: t.t(&format!("proposal-{}", key.replace('_', "-"))), ..Cell::default() }, cell])
        };
        push("substance", Cell::text(p.inn.clone()));
        push("year", Cell::text(p.year.to_string()));
        push("current_estimate_g", Cell::dec(p.current_estimate_g.as_ref().map(|d| &d.0), 3, t));
        for h in &c.history {
            proposal.rows.push(vec![
                Cell { raw: format!("consumption_g_{}", h.year), shown: t.t1("proposal-history", "year", h.year), ..Cell::default() },
                Cell::dec(Some(&h.consumption_g.0), 3, t),
            ]);
        }
        let mut push = |key: &'static str, cell: Cell| {
            proposal
                .rows
                .push(vec![Cell { raw: key.to_owned(), shown: t.t(&format!("proposal-{}", key.replace('_', "-"))), ..Cell::default() }, cell])
        };
        push("trend_g_per_year", Cell::dec(c.trend_g_per_year.as_ref().map(|d| &d.0), 3, t));
        push("projected_consumption_g", Cell::dec(c.projected_consumption_g.as_ref().map(|d| &d.0), 3, t));
        push("reserve_months", Cell::dec(Some(&c.reserve_months.0), 1, t));
        push("reserve_stock_g", Cell::dec(c.reserve_stock_g.as_ref().map(|d| &d.0), 3, t));
        push("wholesale_stock_g", Cell::dec(Some(&c.wholesale_stock_g.0), 3, t));
        push("consumption_based_g", Cell::dec(c.proposed_estimate_g.as_ref().map(|d| &d.0), 3, t).class("total"));
        push("deaths_year", m.deaths_year.map_or_else(|| Cell::text(t.t("no-data")), |y| Cell::text(y.to_string())));
        push("need_mg", Cell::dec(m.need_mg.as_ref().map(|d| &d.0), 1, t));
        push("morbidity_based_g", Cell::dec(m.proposed_estimate_g.as_ref().map(|d| &d.0), 3, t).class("total"));
        // The per-capita reference is a comparison figure, never the proposal.
        push("population", Cell::dec(Some(&r.population.0), 0, t));
        push("reference_me_mg_per_capita", Cell::dec(Some(&r.reference_me_mg_per_capita.0), 2, t));
        push("substance_share_of_me", Cell::dec(r.substance_share_of_me.as_ref().map(|d| &d.0), 4, t));
        push("comparison_g", Cell::dec(r.comparison_g.as_ref().map(|d| &d.0), 3, t));
    }
    Tables { regions, trend, estimates, stock_outs, low_stock, access, proposal }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    c: Chrome,
    country: String,
    year: i32,
    years: Vec<i32>,
    period_from: String,
    period_to: String,
    partial: bool,
    as_of: String,
    admin: bool,
    countries: Vec<(String, String)>,
    substances: Vec<(SubstanceId, String)>,
    proposal_substance: SubstanceId,
    proposal_error: Option<String>,
    notes: Vec<String>,
    proposal_notes: Vec<String>,
    regions_chart: Chart,
    trend_chart: Chart,
    access_chart: Chart,
    t: Tables,
    csv_label: String,
    quarters: Vec<u32>,
}

fn query_of(country: &str, year: i32, substance: Option<SubstanceId>) -> String {
    let mut q = format!("country={country}&year={year}");
    if let Some(s) = substance {
        q.push_str(&format!("&substance_id={s}"));
    }
    q
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<OverviewQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let f = figures(&state, &viewer, &q).await?;
    let c = Chrome::new(&req, &session, Some(&viewer), "overview-title");
    let t = &c.t;
    let tb = tables(&f, t, &query_of(&f.country, f.year, f.proposal_substance));
    let mut ranked: Vec<_> = f.availability.regions.iter().collect();
    ranked.sort_by(|a, b| b.metrics.sddd_per_million_per_day.cmp(&a.metrics.sddd_per_million_per_day));
    let bars: Vec<Bar> = ranked
        .iter()
        .map(|r| {
            let m = &r.metrics;
            let value = m.sddd_per_million_per_day.as_ref().map(|d| &d.0);
            let band = m.band.as_ref().map(|b| t.word("band", &b.code)).unwrap_or_else(|| t.t("no-data"));
            Bar {
                label: r.name.clone(),
                value: f64_of(value),
                colour: band_colour(m.band.as_ref().map(|b| b.code.as_str())),
                note: format!("{} · {band}", t.opt(value, 1)),
            }
        })
        .collect();
    let regions_chart = chart::ranked_bars(&t.t("col-sddd"), &bars, &t.t("no-data"));
    let months: Vec<String> = f.by_month.groups.iter().filter_map(|g| if let GroupKey::Month(m) = g.key { Some(m.label()) } else { None }).collect();
    let series_of = |name: String, colour, pick: &dyn Fn(&AreaMetrics) -> Option<f64>| Series {
        name,
        colour,
        points: f.by_month.groups.iter().enumerate().map(|(i, g)| (i as f64, pick(&g.metrics))).collect(),
        steps: false,
    };
    let trend_chart = chart::lines(
        &t.t("col-sddd"),
        &[
            series_of(t.t("col-sddd"), chart::LINE_COLOURS[0], &|m| f64_of(m.sddd_per_million_per_day.as_ref().map(|d| &d.0))),
            series_of(t.t("col-dispensed-sddd"), chart::LINE_COLOURS[1], &|m| f64_of(m.dispensed_sddd_per_million_per_day.as_ref().map(|d| &d.0))),
        ],
        &|x| months.get(x.round().max(0.0) as usize).filter(|_| (x - x.round()).abs() < 0.01).cloned().unwrap_or_default(),
    );
    let mut points: Vec<_> = f.stock.access_points.iter().collect();
    points.sort_by(|a, b| a.per_100k.cmp(&b.per_100k));
    let access_bars: Vec<Bar> = points
        .iter()
        .map(|a| Bar {
            label: a.name.clone(),
            value: f64_of(a.per_100k.as_ref().map(|d| &d.0)),
            colour: chart::LINE_COLOURS[0],
            note: t.opt(a.per_100k.as_ref().map(|d| &d.0), 2),
        })
        .collect();
    let access_chart = chart::ranked_bars(&t.t("col-per-100k"), &access_bars, &t.t("no-data"));
    let notes: Vec<String> = f.availability.total.missing.iter().map(|m| t.t1("overview-missing", "substance", &m.inn)).collect();
    let proposal_notes = match &f.proposal {
        Ok(p) => p
            .consumption_based
            .notes
            .iter()
            .chain(p.morbidity_based.notes.iter())
            .chain(p.per_capita_reference.notes.iter())
            .map(|n| proposal_note(n, t))
            .collect(),
        Err(_) => Vec::new(),
    };
    let this_year = f.today.year();
    let page = OverviewPage {
        country: f.country.clone(),
        year: f.year,
        years: (this_year - 4..=this_year).rev().collect(),
        period_from: t.date(f.period.from),
        period_to: t.date(f.period.to),
        partial: f.partial,
        as_of: t.date(f.availability.reference_values_as_of),
        admin: viewer.caller.role == crate::db::enums::Role::Admin,
        countries: f.countries.iter().map(|c| (c.code.clone(), c.name.clone())).collect(),
        substances: f.substances.iter().map(|s| (s.id, s.inn.clone())).collect(),
        proposal_substance: f.proposal_substance.unwrap_or(SubstanceId(0)),
        proposal_error: f.proposal.as_ref().err().cloned(),
        notes,
        proposal_notes,
        regions_chart,
        trend_chart,
        access_chart,
        t: tb,
        csv_label: t.t("csv-download"),
        quarters: vec![1, 2, 3, 4],
        c,
    };
    frame::html(&page)
}

async fn csv(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<OverviewQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let f = figures(&state, &viewer, &q).await?;
    let t = viewer.tr();
    let tb = tables(&f, &t, "");
    let id = q.table.clone().unwrap_or_default();
    csv_download(
        &format!("overview-{}-{}", f.country, f.year),
        &id,
        &[&tb.regions, &tb.trend, &tb.estimates, &tb.stock_outs, &tb.low_stock, &tb.access, &tb.proposal],
        &viewer.lang,
    )
}

#[derive(Debug, Deserialize)]
struct FormQuery {
    year: i32,
    quarter: Option<u32>,
    country: Option<String>,
}

/// INCB Form C as CSV: the rows of `GET /api/v1/reports/incb/form-c?format=csv`.
async fn form_c(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<FormQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "get_form_c").await?;
    let lang = viewer.lang.clone();
    let country = form_country(&viewer, q.country.as_deref())?;
    let year = q.year;
    let form = app::run(&state.pool, move |conn| Ok(analytics::incb::form_c(conn, &country, year, Utc::now())?))
        .await
        .map_err(|e| PageError::from_app(&lang, e))?;
    crate::controllers::reports::csv_response(crate::controllers::reports::form_c_rows(&form)).map_err(|e| PageError::from_app(&viewer.lang, e))
}

/// INCB Form A as CSV: the rows of `GET /api/v1/reports/incb/form-a?format=csv`.
async fn form_a(req: HttpRequest, session: Session, state: web::Data<AppState>, q: web::Query<FormQuery>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "get_form_a").await?;
    let lang = viewer.lang.clone();
    let country = form_country(&viewer, q.country.as_deref())?;
    let (year, quarter) = (q.year, q.quarter.unwrap_or(1));
    let form = app::run(&state.pool, move |conn| Ok(analytics::incb::form_a(conn, &country, year, quarter, Utc::now())?))
        .await
        .map_err(|e| PageError::from_app(&lang, e))?;
    crate::controllers::reports::csv_response(crate::controllers::reports::form_a_rows(&form)).map_err(|e| PageError::from_app(&viewer.lang, e))
}

fn form_country(viewer: &Viewer, requested: Option<&str>) -> Result<String, PageError> {
    let scoped = viewer.caller.country_scope(requested.filter(|c| !c.is_empty())).map_err(|e| PageError::from_app(&viewer.lang, e))?;
    scoped.ok_or_else(|| PageError::Bad {
        lang: viewer.lang.clone(),
        problem: frame::Problem { detail: "country is required".into(), ..Default::default() },
        status: actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
    })
}

/// A proposal's note in the viewer's language (`proposal-note-<code>`), its day as a date
/// of that language.
fn proposal_note(note: &crate::analytics::proposal::ProposalNote, t: &Tr) -> String {
    t.with(&format!("proposal-note-{}", note.code()), &note.values(|day| t.date(day)))
}
