//! INCB reports: Form C (annual statistics: consumption, stocks at 31 December, imports,
//! exports) and Form A (quarterly imports by exporting country and exports by importing
//! country), in kilograms and grams of base.
//!
//! A form for a period not yet over (on the country's calendar) is `provisional`: its figures
//! run to `as_of` (today), and Form C's stocks are those held on that day — never labelled
//! as the stocks at 31 December.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive, Zero};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};

use crate::analytics::{Catalog, grams, is_wholesale, supplies_retail};
use crate::db::enums::{Convention, StockEventKind};
use crate::db::models::country::Country;
use crate::db::reports::flows::{self, DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{ProductId, SubstanceId};
use crate::domain::period::{Month, today_in};

/// A quantity as the INCB forms write it: whole kilograms and the grams beyond them.
#[derive(Debug, Clone)]
pub struct KgG {
    pub kg: i64,
    pub g: Decimal,
    pub total_g: Decimal,
}

#[derive(Debug, Clone)]
pub struct FormCLine {
    pub substance_id: SubstanceId,
    pub inn: String,
    /// Supplied to the retail level in the year.
    pub consumed: KgG,
    /// Held by importers and wholesalers at the end of `as_of` (31 December once the year is
    /// over).
    pub stocks: KgG,
    pub imported: KgG,
    /// Shipped abroad against export authorizations in the year.
    pub exported: KgG,
}

/// Form C: the year's statistics per narcotic drug (Single Convention 1961).
#[derive(Debug, Clone)]
pub struct FormC {
    pub country: String,
    pub year: i32,
    /// The year is not over: figures to `as_of` only.
    pub provisional: bool,
    /// The last day counted, the day stocks are read at: 31 December, or today.
    pub as_of: NaiveDate,
    pub lines: Vec<FormCLine>,
}

#[derive(Debug, Clone)]
pub struct FormALine {
    pub substance_id: SubstanceId,
    pub inn: String,
    pub exporting_country: String,
    pub imported: KgG,
}

#[derive(Debug, Clone)]
pub struct FormAExportLine {
    pub substance_id: SubstanceId,
    pub inn: String,
    pub importing_country: String,
    pub exported: KgG,
}

/// Form A: a quarter's imports by substance and exporting country, and its exports by
/// substance and importing country.
#[derive(Debug, Clone)]
pub struct FormA {
    pub country: String,
    pub year: i32,
    pub quarter: u32,
    /// The quarter is not over: imports to `as_of` only.
    pub provisional: bool,
    /// The last day counted: the quarter's last day, or today.
    pub as_of: NaiveDate,
    pub lines: Vec<FormALine>,
    pub exports: Vec<FormAExportLine>,
}

/// Grams as whole kilograms plus the remaining grams (exact).
pub fn kg_g(total_g: &BigDecimal) -> KgG {
    let kg = (total_g / BigDecimal::from(1000)).with_scale_round(0, RoundingMode::Down);
    let rest = total_g - &kg * BigDecimal::from(1000);
    KgG { kg: kg.to_i64().unwrap_or(0), g: Decimal(rest.normalized()), total_g: Decimal(total_g.normalized()) }
}

/// Form C of `country` for `year` (internationally controlled narcotic drugs), as of the
/// instant `now` (the country's day then).
pub fn form_c(conn: &mut PgConnection, country: &str, year: i32, now: DateTime<Utc>) -> QueryResult<FormC> {
    let zone = Country::zone_of(conn, country)?;
    let today = today_in(zone, now);
    let (Some(start), Some(end)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
        return Ok(FormC { country: country.into(), year, provisional: false, as_of: today, lines: Vec::new() });
    };
    let to = end.min(today).max(start);
    let provisional = today <= end;
    let catalog = Catalog::load(conn, to)?;
    let mut consumed: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    let mut imported: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    let mut exported: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    let mut stock: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    for row in flows::supply_before(conn, country, Month::of(start))? {
        if let Some(s) = catalog.substance_of(row.product_id)
            && is_wholesale(row.facility_kind)
        {
            *stock.entry(s).or_default() += catalog.mg(row.product_id, row.units);
        }
    }
    for row in flows::supply(conn, country, None, DateRange { from: start, to, zone }, Source::Aggregates)? {
        let Some(s) = catalog.substance_of(row.product_id) else {
            continue;
        };
        let mg = catalog.mg(row.product_id, row.units);
        if supplies_retail(&row) {
            *consumed.entry(s).or_default() += &mg;
        }
        if row.bucket == StockEventKind::ImportReceipt {
            *imported.entry(s).or_default() += &mg;
        }
        if row.bucket == StockEventKind::Export {
            // Export entries are debits; reversals never compensate them.
            *exported.entry(s).or_default() -= &mg;
        }
        if is_wholesale(row.facility_kind) {
            *stock.entry(s).or_default() += mg;
        }
    }
    let mut substances: Vec<SubstanceId> = consumed.keys().chain(imported.keys()).chain(exported.keys()).chain(stock.keys()).copied().collect();
    substances.sort_unstable();
    substances.dedup();
    let lines = substances
        .into_iter()
        .filter(|s| catalog.values.get(s).is_some_and(|v| v.convention == Convention::Single1961))
        .map(|s| {
            let g = |m: &BTreeMap<SubstanceId, BigDecimal>| kg_g(&grams(&m.get(&s).cloned().unwrap_or_else(BigDecimal::zero)));
            FormCLine {
                substance_id: s,
                inn: catalog.inn(s),
                consumed: g(&consumed),
                stocks: g(&stock),
                imported: g(&imported),
                exported: g(&exported),
            }
        })
        .collect();
    Ok(FormC { country: country.into(), year, provisional, as_of: to, lines })
}

/// Units of a product moved across the border with one partner country in a quarter.
#[derive(QueryableByName)]
struct CrossBorderRow {
    #[diesel(sql_type = BigInt)]
    product_id: ProductId,
    #[diesel(sql_type = Text)]
    partner_country: String,
    #[diesel(sql_type = BigInt)]
    units: i64,
}

/// Base mg per (substance, partner country) of cross-border rows.
fn by_substance_and_partner(catalog: &Catalog, rows: Vec<CrossBorderRow>) -> BTreeMap<(SubstanceId, String), BigDecimal> {
    let mut lines: BTreeMap<(SubstanceId, String), BigDecimal> = BTreeMap::new();
    for r in rows {
        if let Some(s) = catalog.substance_of(r.product_id) {
            *lines.entry((s, r.partner_country)).or_default() += catalog.mg(r.product_id, r.units);
        }
    }
    lines
}

/// Form A of `country` for a quarter: imports received, by substance and exporting country,
/// and exports shipped, by substance and importing country, as of the instant `now` (the
/// country's day then).
pub fn form_a(conn: &mut PgConnection, country: &str, year: i32, quarter: u32, now: DateTime<Utc>) -> QueryResult<FormA> {
    let zone = Country::zone_of(conn, country)?;
    let today = today_in(zone, now);
    let first_month = 3 * (quarter.clamp(1, 4) - 1) + 1;
    let empty = || FormA { country: country.into(), year, quarter, provisional: false, as_of: today, lines: Vec::new(), exports: Vec::new() };
    let Some(start) = NaiveDate::from_ymd_opt(year, first_month, 1) else {
        return Ok(empty());
    };
    let end = Month::of(start).next().next().last_day();
    // A quarter in progress counts its days so far; one not begun counts none.
    let provisional = today <= end;
    let as_of = end.min(today);
    let range = DateRange { from: start, to: as_of, zone };
    let (from, to) = if as_of < start { (range.midnight(start), range.midnight(start)) } else { range.bounds() };
    let imports: Vec<CrossBorderRow> = diesel::sql_query(include_str!("form_a_imports.sql"))
        .bind::<Text, _>(country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .load(conn)?;
    let exports: Vec<CrossBorderRow> = diesel::sql_query(include_str!("form_a_exports.sql"))
        .bind::<Text, _>(country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .load(conn)?;
    let catalog = Catalog::load(conn, as_of.max(start))?;
    Ok(FormA {
        country: country.into(),
        year,
        quarter,
        provisional,
        as_of,
        lines: by_substance_and_partner(&catalog, imports)
            .into_iter()
            .map(|((s, exporter), mg)| FormALine { substance_id: s, inn: catalog.inn(s), exporting_country: exporter, imported: kg_g(&grams(&mg)) })
            .collect(),
        exports: by_substance_and_partner(&catalog, exports)
            .into_iter()
            .map(|((s, importer), mg)| FormAExportLine {
                substance_id: s,
                inn: catalog.inn(s),
                importing_country: importer,
                exported: kg_g(&grams(&mg)),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn grams_split_into_kilograms_and_grams() {
        let q = kg_g(&BigDecimal::from_str("12345.678").unwrap());
        assert_eq!((q.kg, q.g.to_string(), q.total_g.to_string()), (12, "345.678".to_owned(), "12345.678".to_owned()));
        let small = kg_g(&BigDecimal::from_str("0.5").unwrap());
        assert_eq!((small.kg, small.g.to_string()), (0, "0.5".to_owned()));
    }
}
