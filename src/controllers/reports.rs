//! `GET /reports/incb/form-c`, `GET /reports/incb/form-a`: INCB statistical forms in JSON,
//! or CSV with `format=csv` (ministry, regulator, admin).

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::analytics::incb;
use crate::app;
use crate::app::error::{AppResult, DomainError};
use crate::auth::Caller;
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::views::analytics::{FormA, FormC, FormQuery, ReportFormat};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_form_c).service(get_form_a);
}

fn country_of(caller: &Caller, q: &FormQuery) -> AppResult<String> {
    caller.country_scope(q.country.as_deref())?.ok_or_else(|| DomainError::parameter("country", "is required").into())
}

/// A CSV download (`<name>.csv`) of `header` and `rows`.
pub fn csv_response(name: &str, header: &[&str], rows: Vec<Vec<String>>) -> AppResult<HttpResponse> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(anyhow::Error::from)?;
    for row in rows {
        writer.write_record(&row).map_err(anyhow::Error::from)?;
    }
    let body = writer.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}.csv\"")))
        .body(body))
}

fn kg_g(q: &incb::KgG) -> [String; 2] {
    [q.kg.to_string(), q.g.to_string()]
}

/// Form C: consumption, stocks at 31 December, imports and exports of a year, per narcotic drug.
#[utoipa::path(tag = "reports", params(FormQuery), responses((status = 200, description = "Form C as JSON, or as CSV with `format=csv`", content((FormC = "application/json"), (String = "text/csv")))))]
#[get("/reports/incb/form-c")]
async fn get_form_c(state: web::Data<AppState>, caller: Caller, query: QueryParams<FormQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = country_of(&caller, &q)?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    let year = q.year;
    let form = app::run(&state.pool, move |conn| Ok(incb::form_c(conn, &country, year, Utc::now().date_naive())?)).await?;
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(FormC::from(&form))),
        ReportFormat::Csv => {
            let (name, header, rows) = form_c_rows(&form);
            csv_response(&name, &header, rows)
        }
    }
}

/// Form C's CSV: its file name, header and rows (shared with the dashboard's download).
pub fn form_c_rows(form: &incb::FormC) -> (String, Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "country",
        "year",
        "substance",
        "consumed_kg",
        "consumed_g",
        "stock_31_december_kg",
        "stock_31_december_g",
        "imported_kg",
        "imported_g",
        "exported_kg",
        "exported_g",
    ];
    let rows = form
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![form.country.clone(), form.year.to_string(), l.inn.clone()];
            row.extend(kg_g(&l.consumed));
            row.extend(kg_g(&l.stocks_31_december));
            row.extend(kg_g(&l.imported));
            row.extend(kg_g(&l.exported));
            row
        })
        .collect();
    (format!("form-c-{}-{}", form.country, form.year), header, rows)
}

/// Form A: imports of a quarter by substance and exporting country, and exports by
/// substance and importing country (`exports`).
#[utoipa::path(tag = "reports", params(FormQuery), responses((status = 200, description = "Form A as JSON, or as CSV with `format=csv`", content((FormA = "application/json"), (String = "text/csv")))))]
#[get("/reports/incb/form-a")]
async fn get_form_a(state: web::Data<AppState>, caller: Caller, query: QueryParams<FormQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = country_of(&caller, &q)?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    let quarter = q.quarter.ok_or_else(|| DomainError::parameter("quarter", "is required (1 to 4)"))?;
    let year = q.year;
    let form = app::run(&state.pool, move |conn| Ok(incb::form_a(conn, &country, year, quarter)?)).await?;
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(FormA::from(&form))),
        ReportFormat::Csv => {
            let (name, header, rows) = form_a_rows(&form);
            csv_response(&name, &header, rows)
        }
    }
}

/// Form A's CSV: its file name, header and rows (shared with the dashboard's download).
pub fn form_a_rows(form: &incb::FormA) -> (String, Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "country",
        "year",
        "quarter",
        "substance",
        "exporting_country",
        "imported_kg",
        "imported_g",
        "importing_country",
        "exported_kg",
        "exported_g",
    ];
    // Import rows first, then export rows; each leaves the other direction's columns empty.
    let rows = form
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![form.country.clone(), form.year.to_string(), form.quarter.to_string(), l.inn.clone(), l.exporting_country.clone()];
            row.extend(kg_g(&l.imported));
            row.extend([String::new(), String::new(), String::new()]);
            row
        })
        .chain(form.exports.iter().map(|l| {
            let mut row = vec![form.country.clone(), form.year.to_string(), form.quarter.to_string(), l.inn.clone(), String::new()];
            row.extend([String::new(), String::new(), l.importing_country.clone()]);
            row.extend(kg_g(&l.exported));
            row
        }))
        .collect();
    (format!("form-a-{}-{}-q{}", form.country, form.year, form.quarter), header, rows)
}
