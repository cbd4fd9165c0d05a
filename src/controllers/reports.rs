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

/// The CSV's first line for a form whose period is not over (`None` for a final form, whose
/// first line is the header).
fn provisional_line(provisional: bool, period: &str, as_of: chrono::NaiveDate, stocks: bool) -> Option<String> {
    provisional.then(|| {
        let stocks = if stocks { format!("; stocks are those held on {as_of}, not at 31 December") } else { String::new() };
        format!("# provisional: {period} is not over; figures to {as_of}{stocks}\n")
    })
}

/// A CSV download: its file name (without `.csv`), an optional first line before the header
/// (a provisional form says so there), the header and the rows. The API and the dashboard
/// both answer with it, so their files cannot differ.
pub struct CsvFile {
    pub name: String,
    pub first_line: Option<String>,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// A CSV download (`<name>.csv`) of `file`.
pub fn csv_response(file: CsvFile) -> AppResult<HttpResponse> {
    let CsvFile { name, first_line, header, rows } = file;
    let name = name.as_str();
    let mut writer = csv::Writer::from_writer(first_line.unwrap_or_default().into_bytes());
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

/// Form C: consumption, stocks at 31 December, imports and exports of a year, per narcotic
/// drug. For a year not yet over (in the country's time) the form is `provisional`: figures
/// to `as_of`, stocks of that day (`stocks_as_of`; `stocks_31_december` is null), and the
/// CSV's first line says so.
#[utoipa::path(tag = "reports", params(FormQuery), responses((status = 200, description = "Form C as JSON, or as CSV with `format=csv`", content((FormC = "application/json"), (String = "text/csv")))))]
#[get("/reports/incb/form-c")]
async fn get_form_c(state: web::Data<AppState>, caller: Caller, query: QueryParams<FormQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = country_of(&caller, &q)?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    let year = q.year;
    let form = app::run(&state.pool, move |conn| Ok(incb::form_c(conn, &country, year, Utc::now())?)).await?;
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(FormC::from(&form))),
        ReportFormat::Csv => csv_response(form_c_rows(&form)),
    }
}

/// Form C's CSV: its file name, header and rows (shared with the dashboard's download).
pub fn form_c_rows(form: &incb::FormC) -> CsvFile {
    // While the year runs, the stock columns say the day they were read at.
    let (stock_kg, stock_g) = if form.provisional { ("stock_as_of_kg", "stock_as_of_g") } else { ("stock_31_december_kg", "stock_31_december_g") };
    let header = vec![
        "country",
        "year",
        "substance",
        "consumed_kg",
        "consumed_g",
        stock_kg,
        stock_g,
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
            row.extend(kg_g(&l.stocks));
            row.extend(kg_g(&l.imported));
            row.extend(kg_g(&l.exported));
            row
        })
        .collect();
    CsvFile {
        name: format!("form-c-{}-{}", form.country, form.year),
        first_line: provisional_line(form.provisional, &format!("the year {}", form.year), form.as_of, true),
        header,
        rows,
    }
}

/// Form A: imports of a quarter by substance and exporting country, and exports by
/// substance and importing country (`exports`); `provisional` with its `as_of` while the
/// quarter runs (the CSV's first line says so).
#[utoipa::path(tag = "reports", params(FormQuery), responses((status = 200, description = "Form A as JSON, or as CSV with `format=csv`", content((FormA = "application/json"), (String = "text/csv")))))]
#[get("/reports/incb/form-a")]
async fn get_form_a(state: web::Data<AppState>, caller: Caller, query: QueryParams<FormQuery>) -> AppResult<HttpResponse> {
    let q = query.0;
    let country = country_of(&caller, &q)?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    let quarter = q.quarter.ok_or_else(|| DomainError::parameter("quarter", "is required (1 to 4)"))?;
    let year = q.year;
    let form = app::run(&state.pool, move |conn| Ok(incb::form_a(conn, &country, year, quarter, Utc::now())?)).await?;
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(FormA::from(&form))),
        ReportFormat::Csv => csv_response(form_a_rows(&form)),
    }
}

/// Form A's CSV: its file name, header and rows (shared with the dashboard's download).
pub fn form_a_rows(form: &incb::FormA) -> CsvFile {
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
    CsvFile {
        name: format!("form-a-{}-{}-q{}", form.country, form.year, form.quarter),
        first_line: provisional_line(form.provisional, &format!("quarter {} of {}", form.quarter, form.year), form.as_of, false),
        header,
        rows,
    }
}
