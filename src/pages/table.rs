//! Tables of numbers: each chart's table and its CSV are one `Table`, so the page, the
//! table and the download cannot disagree. A cell keeps its exact value (`raw`, written to
//! the CSV) beside the value as the reader's language writes it (`shown`).

use actix_web::HttpResponse;
use bigdecimal::BigDecimal;

use crate::pages::frame::PageError;
use crate::pages::i18n::Tr;

/// Every significant digit, never in exponent form (`1000000`, `0.426`).
pub fn exact(value: &BigDecimal) -> String {
    let n = value.normalized();
    if n.fractional_digit_count() < 0 { n.with_scale(0).to_string() } else { n.to_string() }
}

#[derive(Debug, Clone)]
pub struct Column {
    /// The CSV header (stable, untranslated).
    pub key: &'static str,
    pub label: String,
    pub numeric: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub raw: String,
    pub shown: String,
    /// A CSS class (e.g. the adequacy band), empty for none.
    pub class: String,
    /// A link, empty for none.
    pub href: String,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        let value = value.into();
        Cell { raw: value.clone(), shown: value, ..Cell::default() }
    }

    /// A decimal with `scale` digits shown; the CSV keeps every digit. `None` is "no data".
    pub fn dec(value: Option<&BigDecimal>, scale: i64, t: &Tr) -> Cell {
        Cell { raw: value.map(exact).unwrap_or_default(), shown: t.opt(value, scale), class: "num".into(), ..Cell::default() }
    }

    pub fn int(value: i64, t: &Tr) -> Cell {
        Cell { raw: value.to_string(), shown: t.int(value), class: "num".into(), ..Cell::default() }
    }

    pub fn date(value: chrono::NaiveDate, t: &Tr) -> Cell {
        Cell { raw: value.to_string(), shown: t.date(value), ..Cell::default() }
    }

    pub fn moment(value: chrono::DateTime<chrono::Utc>, t: &Tr) -> Cell {
        Cell { raw: value.to_rfc3339(), shown: t.moment(value), ..Cell::default() }
    }

    /// A stable code shown as a word of the language.
    pub fn word(prefix: &str, code: &str, t: &Tr) -> Cell {
        Cell { raw: code.to_owned(), shown: t.word(prefix, code), ..Cell::default() }
    }

    /// Adds a CSS class.
    pub fn class(mut self, class: impl Into<String>) -> Cell {
        let class = class.into();
        if !class.is_empty() {
            self.class = if self.class.is_empty() { class } else { format!("{} {class}", self.class) };
        }
        self
    }

    pub fn link(mut self, href: impl Into<String>) -> Cell {
        self.href = href.into();
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The name of the table (its CSV file name and `?table=` value).
    pub id: &'static str,
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The CSV download of the same rows, empty for none.
    pub csv_href: String,
}

impl Table {
    pub fn new(id: &'static str, caption: String, columns: Vec<Column>) -> Table {
        Table { id, caption, columns, rows: Vec::new(), csv_href: String::new() }
    }

    pub fn with_csv(mut self, href: String) -> Table {
        self.csv_href = href;
        self
    }

    /// The rows as CSV: the column keys, then the exact values.
    pub fn csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(self.columns.iter().map(|c| c.key))?;
        for row in &self.rows {
            writer.write_record(row.iter().map(|c| c.raw.as_str()))?;
        }
        writer.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))
    }
}

/// A column; `numeric` columns are right-aligned.
pub fn col(key: &'static str, label: String, numeric: bool) -> Column {
    Column { key, label, numeric }
}

/// The table `id` of `tables` as a CSV download named `<stem>-<id>.csv`.
pub fn csv_download(stem: &str, id: &str, tables: &[&Table], lang: &str) -> Result<HttpResponse, PageError> {
    let table = tables.iter().find(|t| t.id == id).ok_or_else(|| PageError::NotFound { lang: lang.to_owned() })?;
    let body = table.csv().map_err(PageError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{stem}-{id}.csv\"")))
        .body(body))
}
