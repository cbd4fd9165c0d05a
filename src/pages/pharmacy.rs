//! The facility's page (`/dashboard/facility`, its own pharmacy or wholesaler user): stock
//! and recent ledger, reporting periods with close / zero report, recent dispensings, and
//! the upload of a month's dispensings as CSV — the columns of the batch API
//! (`POST /api/v1/facilities/{id}/dispensings`), parsed and written by the same code and
//! answered per row like it. `/dashboard/facility/dispensings-template.csv` is the template.

use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::app;
use crate::app::dispensing::close_reporting_period as period_close;
use crate::app::dispensing::{ParsedRecord, RecordStatus, record_batch};
use crate::db::ledger;
use crate::db::models::country::Country;
use crate::db::models::dispensing::Dispensing;
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::reporting_period::ReportingPeriod;
use crate::db::models::stock_balance::StockBalance;
use crate::domain::ids::{FacilityId, ProductId};
use crate::domain::period::{Month, today_in};
use crate::pages::frame::{self, Chrome, PageError, Problem, Viewer};
use crate::pages::i18n::Tr;
use crate::pages::table::{Cell, Table, col};
use crate::state::AppState;
use crate::views::dispensing::{RecordResult, parse_record};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/facility", web::get().to(page))
        .route("/facility/periods/{period}/close", web::post().to(close_period))
        .route("/facility/dispensings/upload", web::post().to(upload))
        .route("/facility/dispensings-template.csv", web::get().to(template));
}

/// The operation that admits the page: what a facility reports about itself.
const OPERATION: &str = "close_reporting_period";

/// The CSV columns: the fields of one record of the batch API, in its order.
pub const COLUMNS: [&str; 11] = [
    "client_record_id",
    "product_id",
    "quantity_units",
    "dispensed_at",
    "patient_id",
    "patient_sex",
    "patient_age",
    "prescriber_id",
    "prescription_number",
    "days_supply",
    "indication",
];
/// Columns that are numbers in the batch API's JSON.
const NUMERIC: [&str; 4] = ["product_id", "quantity_units", "patient_age", "days_supply"];
/// The batch API's limits: at most 10 000 records, and an upload of at most 8 MiB.
const MAX_ROWS: usize = 10_000;
const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;
/// Months shown in the reporting periods.
const MONTHS_SHOWN: u32 = 6;
/// Ledger entries and dispensings shown.
const RECENT: i64 = 20;

/// The facility's newest `limit` dispensings, newest first (as `Dispensing::page` orders
/// them): the newest of each product in `products`, along the facility-product timeline index.
fn recent_dispensings(conn: &mut PgConnection, facility_id: FacilityId, products: &[ProductId], limit: i64) -> QueryResult<Vec<Dispensing>> {
    use crate::db::schema::dispensings as d;
    let mut rows = Vec::new();
    for product_id in products {
        rows.extend(
            d::table
                .filter(d::facility_id.eq(facility_id))
                .filter(d::product_id.eq(*product_id))
                .order((d::dispensed_at.desc(), d::id.desc()))
                .limit(limit)
                .select(Dispensing::as_select())
                .load(conn)?,
        );
    }
    rows.sort_by_key(|d| std::cmp::Reverse((d.dispensed_at, d.id)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// The facility's dispensings in `[from, to)` (as `Dispensing::count_in`), counted per product
/// of `products` along the facility-product timeline index.
fn dispensings_in(
    conn: &mut PgConnection,
    facility_id: FacilityId,
    products: &[ProductId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<i64> {
    use crate::db::schema::dispensings as d;
    d::table
        .filter(d::facility_id.eq(facility_id))
        .filter(d::product_id.eq_any(products))
        .filter(d::dispensed_at.ge(from))
        .filter(d::dispensed_at.lt(to))
        .count()
        .get_result(conn)
}

struct Facts {
    facility: Facility,
    stock: Vec<StockBalance>,
    ledger: Vec<ledger::LedgerRow>,
    dispensings: Vec<Dispensing>,
    products: Vec<Product>,
    /// (month, closed, dispensings in it)
    periods: Vec<(Month, bool, i64)>,
    /// The country's today and the configured grace days: a period is late after its due day.
    today: NaiveDate,
    grace_days: i64,
}

async fn facility_of(state: &AppState, viewer: &Viewer) -> Result<Facility, PageError> {
    let id = viewer.caller.facility_id.ok_or_else(|| PageError::Forbidden { lang: viewer.lang.clone(), detail: "no facility".into() })?;
    let facility = app::run(&state.pool, move |conn| Ok(Facility::find(conn, id)?))
        .await
        .map_err(|e| PageError::from_app(&viewer.lang, e))?
        .ok_or_else(|| PageError::NotFound { lang: viewer.lang.clone() })?;
    viewer.caller.check_facility(&facility).map_err(|e| PageError::from_app(&viewer.lang, e))?;
    Ok(facility)
}

async fn facts(state: &AppState, viewer: &Viewer) -> Result<Facts, PageError> {
    let facility = facility_of(state, viewer).await?;
    let grace_days = state.settings.reporting_grace_days;
    app::run(&state.pool, move |conn| {
        let stock = StockBalance::of_facility(conn, facility.id)?;
        // Every product the facility ever moved has its balance row (a ledger write locks it).
        let moved: Vec<ProductId> = stock.iter().map(|s| s.product_id).collect();
        let ledger = crate::pages::ledger::newest(conn, facility.id, RECENT)?;
        let dispensings = recent_dispensings(conn, facility.id, &moved, RECENT)?;
        // The pharmacy's months are its country's (local midnight).
        let zone = Country::zone_of(conn, &facility.country_code)?;
        let today = today_in(zone, Utc::now());
        let current = Month::of(today);
        let mut months = vec![current];
        for _ in 1..MONTHS_SHOWN {
            let last = months[months.len() - 1];
            let previous = Month::of(last.first_day() - chrono::Duration::days(1));
            months.push(previous);
        }
        let since = months[months.len() - 1].first_day();
        let closed = ReportingPeriod::closed_months(conn, facility.id, since)?;
        let mut periods = Vec::new();
        for m in months.into_iter().filter(|m| m.has_ended(today)) {
            let (from, to) = m.bounds(zone);
            let count = dispensings_in(conn, facility.id, &moved, from, to)?;
            periods.push((m, closed.contains(&m.first_day()), count));
        }
        let mut ids: Vec<ProductId> =
            stock.iter().map(|s| s.product_id).chain(ledger.iter().map(|l| l.product_id)).chain(dispensings.iter().map(|d| d.product_id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let products = Product::find_many(conn, &ids)?;
        Ok(Facts { facility, stock, ledger, dispensings, products, periods, today, grace_days })
    })
    .await
    .map_err(|e| PageError::from_app(&viewer.lang, e))
}

fn product_name(products: &[Product], id: ProductId) -> String {
    products.iter().find(|p| p.id == id).map_or_else(|| id.to_string(), |p| format!("{} (#{id})", p.name))
}

/// A period to close on the page.
struct PeriodRow {
    label: String,
    shown: String,
    closed: bool,
    late: bool,
    count: i64,
}

#[derive(Template)]
#[template(path = "facility.html")]
struct FacilityPage {
    c: Chrome,
    name: String,
    retail: bool,
    stock: Table,
    ledger: Table,
    dispensings: Table,
    periods: Vec<PeriodRow>,
    results: Option<Table>,
    summary: Option<String>,
    problem: Option<Problem>,
    columns: String,
    csv_label: String,
}

fn render(
    req: &HttpRequest,
    session: &Session,
    viewer: &Viewer,
    f: Facts,
    results: Option<Table>,
    summary: Option<String>,
    problem: Option<Problem>,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::new(req, session, Some(viewer), "facility-title");
    let t = &c.t;
    let mut stock = Table::new(
        "stock",
        t.t("facility-stock-caption"),
        vec![
            col("product", t.t("col-product"), false),
            col("balance_units", t.t("col-balance"), true),
            col("last_movement_at", t.t("col-last-movement"), false),
        ],
    );
    for s in &f.stock {
        stock.rows.push(vec![
            Cell::text(product_name(&f.products, s.product_id)),
            Cell::int(s.balance_units, t).class(if s.balance_units == 0 { "warn" } else { "" }),
            s.last_occurred_at.map_or_else(|| Cell::text(t.t("no-data")), |at| Cell::moment(at, t)),
        ]);
    }
    let mut ledger = Table::new(
        "ledger",
        t.t("facility-ledger-caption"),
        vec![
            col("occurred_at", t.t("col-at"), false),
            col("product", t.t("col-product"), false),
            col("kind", t.t("col-kind"), false),
            col("delta_units", t.t("col-delta"), true),
            col("balance_after_units", t.t("col-balance"), true),
        ],
    );
    for r in &f.ledger {
        ledger.rows.push(vec![
            Cell::moment(r.occurred_at, t),
            Cell::text(product_name(&f.products, r.product_id)),
            Cell::word("kind", r.kind.as_str(), t),
            Cell::int(r.delta_units, t),
            Cell::int(r.balance_after_units, t),
        ]);
    }
    let mut dispensings = Table::new(
        "dispensings",
        t.t("facility-dispensings-caption"),
        vec![
            col("dispensed_at", t.t("col-at"), false),
            col("client_record_id", t.t("col-record"), false),
            col("product", t.t("col-product"), false),
            col("quantity_units", t.t("col-units"), true),
            col("indication", t.t("col-indication"), false),
        ],
    );
    for d in &f.dispensings {
        dispensings.rows.push(vec![
            Cell::moment(d.dispensed_at, t),
            Cell::text(d.client_record_id.clone()),
            Cell::text(product_name(&f.products, d.product_id)),
            Cell::int(d.quantity_units, t),
            Cell::word("indication", d.indication.as_str(), t),
        ]);
    }
    let (today, grace) = (f.today, f.grace_days);
    let periods = f
        .periods
        .iter()
        .map(|(m, closed, count)| PeriodRow {
            label: m.label(),
            shown: format!("{} {}", t.t(&format!("month-{}", m.first_day().month())), m.first_day().year()),
            closed: *closed,
            late: !closed && today > m.due_by(grace),
            count: *count,
        })
        .collect();
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = FacilityPage {
        name: f.facility.name.clone(),
        retail: f.facility.kind.is_retail(),
        stock,
        ledger,
        dispensings,
        periods,
        results,
        summary,
        problem,
        columns: COLUMNS.join(","),
        csv_label: t.t("csv-download"),
        c,
    };
    let mut response = frame::html(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    let f = facts(&state, &viewer).await?;
    render(&req, &session, &viewer, f, None, None, None)
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    idem: Option<String>,
    zero_report: Option<String>,
}

/// Closes a month like `POST /api/v1/facilities/{id}/reporting-periods/{period}/close`.
async fn close_period(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, OPERATION).await?;
    frame::check_csrf(&req, &session, &form.csrf)?;
    let facility = facility_of(&state, &viewer).await?;
    let period = path.into_inner();
    let zero = form.zero_report.as_deref().is_some_and(|v| v == "true" || v == "on");
    let fingerprint = frame::fingerprint(&[("period", &period), ("zero_report", if zero { "true" } else { "false" })]);
    let parsed = Month::parse(&period)
        .ok_or_else(|| crate::app::error::DomainError::parameter("period", "must be a month as YYYY-MM"))
        .and_then(|m| period_close::Input::parse(facility, m, zero));
    let result = match parsed {
        Ok(input) => {
            frame::write(
                &state,
                &viewer,
                frame::form_key(form.idem.as_deref()),
                fingerprint,
                move |conn, actor| period_close::execute(conn, actor, input),
                |row| (StatusCode::CREATED, serde_json::json!({"zero_report": row.zero_report, "dispensing_count": row.dispensing_count})),
            )
            .await?
        }
        Err(e) => Err(Problem::of_domain(&e)),
    };
    match result {
        Ok(_) => {
            frame::flash(&session, &viewer.tr().t1("facility-closed", "period", &period));
            Ok(frame::see_other("/dashboard/facility"))
        }
        Err(problem) => {
            let f = facts(&state, &viewer).await?;
            render(&req, &session, &viewer, f, None, None, Some(problem))
        }
    }
}

/// The CSV's rows as the batch API's JSON records: numbers where the API takes numbers
/// (a cell that is not a number stays text, so the record is refused naming the field),
/// empty cells left out (refused as missing).
pub fn records_of_csv(bytes: &[u8]) -> Result<Vec<Value>, Problem> {
    let problem =
        |detail: String, field: &str| Problem { code: "validation_failed".into(), detail: detail.clone(), errors: vec![(field.to_owned(), detail)] };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| problem(format!("the header row cannot be read: {e}"), "file"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    for h in &header {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(problem(format!("unknown column {h:?}; the columns are {}", COLUMNS.join(",")), h));
        }
    }
    if let Some(missing) = COLUMNS.iter().find(|c| !header.iter().any(|h| h == *c)) {
        return Err(problem(format!("the column {missing} is missing"), missing));
    }
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| problem(format!("row {} cannot be read: {e}", i + 2), "file"))?;
        if records.len() == MAX_ROWS {
            return Err(problem(format!("more than {MAX_ROWS} rows: split the month into several files"), "file"));
        }
        let mut record = Map::new();
        for (name, cell) in header.iter().zip(row.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = match cell.parse::<i64>() {
                Ok(n) if NUMERIC.contains(&name.as_str()) => Value::from(n),
                _ => Value::from(cell),
            };
            record.insert(name.clone(), value);
        }
        records.push(Value::Object(record));
    }
    if records.is_empty() {
        return Err(problem("the file has no rows".into(), "file"));
    }
    Ok(records)
}

/// The multipart form's fields: the CSRF token, the idempotency key and the file.
async fn read_upload(mut form: Multipart) -> Result<(String, String, Vec<u8>), String> {
    let (mut csrf, mut idem, mut file) = (String::new(), String::new(), Vec::new());
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| e.to_string())?;
        let name = field.name().unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                return Err(format!("the file is larger than {} MiB", MAX_UPLOAD_BYTES / 1024 / 1024));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "idem" => idem = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes,
            _ => {}
        }
    }
    Ok((csrf, idem, file))
}

fn results_table(answer: &Value, t: &Tr, records: &[Value]) -> Table {
    let mut table = Table::new(
        "results",
        t.t("upload-results-caption"),
        vec![
            col("row", t.t("col-row"), true),
            col("client_record_id", t.t("col-record"), false),
            col("status", t.t("col-status"), false),
            col("id", t.t("col-id"), true),
            col("problem", t.t("col-problem"), false),
        ],
    );
    for r in answer["results"].as_array().into_iter().flatten() {
        let index = r["index"].as_u64().unwrap_or(0) as usize;
        let status = r["status"].as_str().unwrap_or("");
        let fields: Vec<String> = r["problem"]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let pointer = e["pointer"].as_str().unwrap_or("");
                // "/records/3/quantity_units" names the column "quantity_units".
                let column = pointer.rsplit('/').next().unwrap_or(pointer);
                format!("{column}: {}", e["detail"].as_str().unwrap_or(""))
            })
            .collect();
        // The fields at fault when the problem names them, its detail otherwise.
        let problem = if fields.is_empty() { r["problem"]["detail"].as_str().unwrap_or("").to_owned() } else { fields.join("; ") };
        table.rows.push(vec![
            Cell::int(index as i64 + 2, t),
            Cell::text(records.get(index).and_then(|x| x["client_record_id"].as_str()).unwrap_or("").to_owned()),
            Cell::word("record", status, t).class(format!("record-{status}")),
            r["id"].as_i64().map_or_else(|| Cell::text(""), |id| Cell::int(id, t)),
            Cell::text(problem),
        ]);
    }
    table
}

/// Writes the file's rows as one dispensing batch (the batch API's parsing, command and
/// write frame) and answers with every row's outcome.
async fn upload(req: HttpRequest, session: Session, state: web::Data<AppState>, form: Multipart) -> Result<HttpResponse, PageError> {
    let viewer = frame::admit(&req, &session, &state, "record_dispensings").await?;
    let (csrf, idem, file) = match read_upload(form).await {
        Ok(parts) => parts,
        Err(detail) => {
            let f = facts(&state, &viewer).await?;
            return render(&req, &session, &viewer, f, None, None, Some(Problem { code: "validation_failed".into(), detail, errors: Vec::new() }));
        }
    };
    frame::check_csrf(&req, &session, &csrf)?;
    let facility = facility_of(&state, &viewer).await?;
    if let Err(e) = record_batch::admit(&viewer.actor(), &facility) {
        return Err(PageError::from_app(&viewer.lang, e.into()));
    }
    let records = match records_of_csv(&file) {
        Ok(r) => r,
        Err(problem) => {
            let f = facts(&state, &viewer).await?;
            return render(&req, &session, &viewer, f, None, None, Some(problem));
        }
    };
    let raw: Vec<Box<serde_json::value::RawValue>> = records.iter().filter_map(|r| serde_json::value::to_raw_value(r).ok()).collect();
    let (key, backdate, country) = (state.settings.pseudonym_key.clone(), state.settings.backdate_days, facility.country_code.clone());
    let parsed: Vec<ParsedRecord> = web::block(move || {
        let now = Utc::now();
        raw.iter().enumerate().map(|(i, r)| parse_record(i, r, &key, &country, now, backdate)).collect()
    })
    .await
    .map_err(|e| PageError::Internal(e.into()))?;
    let fingerprint: [u8; 32] = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&file).into()
    };
    let written = frame::write(
        &state,
        &viewer,
        frame::form_key(Some(&idem)),
        fingerprint,
        move |conn, actor| {
            let locked = record_batch::open(conn, facility.id)?;
            record_batch::execute(conn, actor, &locked, parsed)
        },
        |outcome| {
            let response = crate::views::dispensing::DispensingBatchResponse {
                accepted: outcome.count(RecordStatus::Accepted),
                replayed: outcome.count(RecordStatus::Replayed),
                rejected: outcome.count(RecordStatus::Rejected),
                results: outcome.results.into_iter().map(RecordResult::from).collect(),
            };
            (StatusCode::OK, response)
        },
    )
    .await?;
    let t = viewer.tr();
    let f = facts(&state, &viewer).await?;
    match written {
        Ok(answer) => {
            let summary = t.with(
                "upload-summary",
                &[
                    ("accepted", answer["accepted"].to_string()),
                    ("replayed", answer["replayed"].to_string()),
                    ("rejected", answer["rejected"].to_string()),
                ],
            );
            let results = results_table(&answer, &t, &records);
            render(&req, &session, &viewer, f, Some(results), Some(summary), None)
        }
        Err(problem) => render(&req, &session, &viewer, f, None, None, Some(problem)),
    }
}

/// The upload's template: the columns and one example row.
async fn template(req: HttpRequest, session: Session, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    frame::admit(&req, &session, &state, "record_dispensings").await?;
    let mut body = COLUMNS.join(",");
    body.push_str("\nRX-2026-0001,1,10,2026-01-15T10:30:00Z,AB1234567,female,64,LIC-00017,PR-55501,10,cancer\n");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"dispensings-template.csv\""))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_batch_records_with_numbers_where_the_api_takes_numbers() {
        let csv = format!(
            "{}\nR1,7,10,2026-01-15T10:30:00Z,ID1,female,64,LIC,PR,10,cancer\nR2,7,ten,2026-01-15T10:30:00Z,ID2,male,,LIC,PR,10,acute\n",
            COLUMNS.join(",")
        );
        let records = records_of_csv(csv.as_bytes()).unwrap();
        assert_eq!(records[0]["product_id"], 7);
        assert_eq!(records[0]["patient_id"], "ID1");
        assert_eq!(records[1]["quantity_units"], "ten");
        assert!(records[1].get("patient_age").is_none());
    }

    #[test]
    fn unknown_and_missing_columns_are_named() {
        let p = records_of_csv(b"client_record_id,colour\nR1,red\n").unwrap_err();
        assert_eq!(p.errors[0].0, "colour");
        let header: Vec<&str> = COLUMNS.iter().copied().filter(|c| *c != "indication").collect();
        let p = records_of_csv(format!("{}\n", header.join(",")).as_bytes()).unwrap_err();
        assert_eq!(p.errors[0].0, "indication");
    }
}
