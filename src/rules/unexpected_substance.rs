//! `unexpected_substance`: an internationally controlled substance dispensed in a year for
//! which the country has no estimate of it (methadone where there is no opioid agonist
//! therapy, say).
//!
//! For every calendar year the scan period touches, the substances whose reference values
//! in force on the last day of that year's part of the period place them under the 1961 or
//! 1971 convention, and for which the country has no estimate (annual or supplementary) of
//! that year, are candidates. Their dispensings in the year's part of the period are
//! counted per facility (candidate facilities come from the maintained monthly aggregate,
//! exact counts from the facility's own timeline; reversed dispensings never count). One
//! finding per substance and year with at least `min_records` dispensings; its period is
//! the year's part of the scan period.
//!
//! Severity: `medium`; `high` from `high_from` dispensings.

use std::collections::BTreeMap;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Numeric, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

/// Dispensing ids listed per facility and product in a flag's evidence (the earliest).
const LISTED_DISPENSINGS: i64 = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Dispensings of the substance in the year's part of the period that raise a flag ("any": 1).
    pub min_records: i64,
    /// Dispensings from which the flag is `high`.
    pub high_from: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_records: 1, high_from: 10 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_records < 1 || self.high_from < self.min_records {
            return Err("min_records must be at least 1 and high_from at least min_records".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    substance_id: i64,
    #[diesel(sql_type = Text)]
    inn: String,
    #[diesel(sql_type = Text)]
    convention: String,
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = Date)]
    period_from: NaiveDate,
    #[diesel(sql_type = Date)]
    period_to: NaiveDate,
    #[diesel(sql_type = BigInt)]
    facility_id: i64,
    #[diesel(sql_type = BigInt)]
    product_id: i64,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = Numeric)]
    base_mg: BigDecimal,
    #[diesel(sql_type = Array<BigInt>)]
    ids: Vec<i64>,
}

#[derive(Default)]
struct PerFacility {
    records: i64,
    units: i64,
    base_mg: BigDecimal,
    products: Vec<i64>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let rows: Vec<Row> = diesel::sql_query(
        "WITH years AS ( \
             SELECT y AS year, greatest(make_date(y, 1, 1), $2) AS pf, least(make_date(y, 12, 31), $3) AS pt \
             FROM generate_series(extract(year FROM $2)::int, extract(year FROM $3)::int) AS y), \
         in_force AS ( \
             SELECT DISTINCT ON (v.substance_id, y.year) v.substance_id, v.convention, y.year, y.pf, y.pt \
             FROM years y JOIN substance_reference_values v ON v.effective_from <= y.pt \
             ORDER BY v.substance_id, y.year, v.effective_from DESC, v.id DESC), \
         candidates AS ( \
             SELECT c.* FROM in_force c \
             WHERE c.convention IN ('1961', '1971') \
               AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.country_code = $1 AND e.substance_id = c.substance_id AND e.year = c.year)), \
         dispensed AS ( \
             SELECT DISTINCT c.substance_id, c.convention, c.year, c.pf, c.pt, m.facility_id, m.product_id, p.base_mg_per_unit \
             FROM candidates c \
             JOIN products p ON p.substance_id = c.substance_id \
             JOIN facility_monthly m ON m.product_id = p.id AND m.bucket = 'dispense' \
                  AND m.month >= date_trunc('month', c.pf)::date AND m.month <= c.pt \
             JOIN facilities f ON f.id = m.facility_id AND f.country_code = $1) \
         SELECT x.substance_id, s.inn, x.convention, x.year, x.pf AS period_from, x.pt AS period_to, x.facility_id, x.product_id, \
                n.records, n.units, n.units * x.base_mg_per_unit AS base_mg, n.ids \
         FROM dispensed x \
         JOIN substances s ON s.id = x.substance_id \
         CROSS JOIN LATERAL ( \
             SELECT count(*) AS records, coalesce(sum(d.quantity_units), 0)::bigint AS units, \
                    coalesce((array_agg(d.id ORDER BY d.dispensed_at, d.id))[1:$4], '{}') AS ids \
             FROM dispensings d \
             WHERE d.facility_id = x.facility_id AND d.product_id = x.product_id AND d.country_code = $1 \
               AND d.dispensed_at >= x.pf::timestamp AT TIME ZONE 'UTC' AND d.dispensed_at < (x.pt + 1)::timestamp AT TIME ZONE 'UTC' \
               AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id)) n \
         WHERE n.records > 0 \
         ORDER BY x.substance_id, x.year, x.facility_id, x.product_id",
    )
    .bind::<Text, _>(&ctx.country)
    .bind::<Date, _>(ctx.range.from)
    .bind::<Date, _>(ctx.range.to)
    .bind::<Integer, _>(LISTED_DISPENSINGS as i32)
    .load(conn)?;

    let mut findings = Vec::new();
    for group in rows.chunk_by(|a, b| (a.substance_id, a.year) == (b.substance_id, b.year)) {
        let first = &group[0];
        let mut facilities: BTreeMap<i64, PerFacility> = BTreeMap::new();
        let mut ids = Vec::new();
        for r in group {
            let f = facilities.entry(r.facility_id).or_default();
            f.records += r.records;
            f.units += r.units;
            f.base_mg += &r.base_mg;
            f.products.push(r.product_id);
            ids.extend_from_slice(&r.ids);
        }
        ids.sort_unstable();
        let records: i64 = facilities.values().map(|f| f.records).sum();
        if records < params.min_records {
            continue;
        }
        let base_mg: BigDecimal = facilities.values().map(|f| f.base_mg.clone()).sum();
        findings.push(Finding {
            subject_type: SubjectType::Substance,
            subject_id: first.substance_id.to_string(),
            facility_id: None,
            region_id: None,
            severity: if records >= params.high_from { Severity::High } else { Severity::Medium },
            title: format!(
                "{} dispensed {records} time{} at {} facilit{} in {} with no estimate for the year",
                first.inn,
                if records == 1 { "" } else { "s" },
                facilities.len(),
                if facilities.len() == 1 { "y" } else { "ies" },
                first.year
            ),
            evidence: json!({
                "records": {"facilities": facilities.keys().collect::<Vec<_>>(), "dispensings": ids},
                "figures": {
                    "substance": first.inn,
                    "convention": first.convention,
                    "year": first.year,
                    "records": records,
                    "base_mg": Decimal::from(base_mg).round(6),
                    "facilities": facilities.iter().map(|(id, f)| json!({
                        "facility_id": id,
                        "records": f.records,
                        "units": f.units,
                        "base_mg": Decimal::from(f.base_mg.clone()).round(6),
                        "product_ids": f.products,
                    })).collect::<Vec<_>>(),
                    "dispensings_listed_per_facility_and_product": LISTED_DISPENSINGS,
                },
                "thresholds": {"min_records": params.min_records, "high_from": params.high_from},
            }),
            period: Some((first.period_from, first.period_to)),
        });
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_parameters_are_refused() {
        assert!(Params::default().check().is_ok());
        assert!(Params { min_records: 0, ..Params::default() }.check().is_err());
        assert!(Params { high_from: 0, ..Params::default() }.check().is_err());
    }
}
