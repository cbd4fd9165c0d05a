//! `unexpected_substance`: an internationally controlled substance dispensed in a year for
//! which the country has no estimate of it (methadone where there is no opioid agonist
//! therapy, say).
//!
//! For every calendar year the scan period touches, the substances whose reference values
//! in force on the last day of that year's part of the period place them under the 1961 or
//! 1971 convention, and for which the country has no estimate (annual or supplementary) of
//! that year, are candidates. Their dispensings in the year's part of the period are
//! counted per facility (candidate facilities come from the maintained monthly aggregate,
//! so nothing is read when every substance dispensed has its estimate; the counts are exact,
//! from the dispensings themselves; reversed dispensings never count). One
//! finding per substance and year with at least `min_records` dispensings; its period is
//! the year's part of the scan period.
//!
//! Severity: `medium`; `high` from `high_from` dispensings.

use std::collections::BTreeMap;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, LedgerEntryId, ProductId, SubstanceId};
use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

/// Dispensing ids listed in a flag's evidence (the earliest).
const LISTED_DISPENSINGS: i64 = 50;

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
struct Candidate {
    #[diesel(sql_type = BigInt)]
    substance_id: SubstanceId,
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
    #[diesel(sql_type = Array<BigInt>)]
    facility_ids: Vec<FacilityId>,
    #[diesel(sql_type = Array<BigInt>)]
    product_ids: Vec<ProductId>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = BigInt)]
    substance_id: SubstanceId,
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
    #[diesel(sql_type = BigInt)]
    product_id: ProductId,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = Numeric)]
    base_mg: BigDecimal,
}

#[derive(QueryableByName)]
struct Listed {
    #[diesel(sql_type = BigInt)]
    substance_id: SubstanceId,
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = BigInt)]
    id: LedgerEntryId,
    #[diesel(sql_type = Timestamptz)]
    dispensed_at: DateTime<Utc>,
}

/// A dispensing id with its time, to keep the earliest.
type Dated = (DateTime<Utc>, LedgerEntryId);

#[derive(Default)]
struct PerFacility {
    records: i64,
    units: i64,
    base_mg: BigDecimal,
    products: Vec<ProductId>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    // The substances and years without an estimate, and the facilities that dispensed their
    // products in the months concerned (from the maintained aggregate): no dispensing is
    // read when every controlled substance dispensed has its estimate.
    let candidates: Vec<Candidate> = diesel::sql_query(include_str!("unexpected_substance_candidates.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Date, _>(ctx.range.from)
        .bind::<Date, _>(ctx.range.to)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut facility_ids: Vec<FacilityId> = candidates.iter().flat_map(|c| c.facility_ids.iter().copied()).collect();
    let mut product_ids: Vec<ProductId> = candidates.iter().flat_map(|c| c.product_ids.iter().copied()).collect();
    facility_ids.sort_unstable();
    facility_ids.dedup();
    product_ids.sort_unstable();
    product_ids.dedup();

    // Exact counts in one pass over the period's dispensings of those facilities and products.
    let (from, to) = ctx.range.bounds();
    let counts: Vec<Count> = diesel::sql_query(include_str!("unexpected_substance_counts.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Array<BigInt>, _>(&facility_ids)
        .bind::<Array<BigInt>, _>(&product_ids)
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;

    let candidates: BTreeMap<(SubstanceId, i32), Candidate> = candidates.into_iter().map(|c| ((c.substance_id, c.year), c)).collect();
    let counts: Vec<Count> = counts.into_iter().filter(|c| candidates.contains_key(&(c.substance_id, c.year))).collect();
    if counts.is_empty() {
        return Ok(Vec::new());
    }

    // The earliest dispensings of each facility and product counted, through the facility
    // timeline index.
    let span = |c: &Count| candidates.get(&(c.substance_id, c.year)).map(|k| (k.period_from, k.period_to)).unwrap_or((ctx.range.from, ctx.range.to));
    let listed: Vec<Listed> = diesel::sql_query(include_str!("unexpected_substance_listed.sql"))
        .bind::<Array<BigInt>, _>(counts.iter().map(|c| c.substance_id).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(counts.iter().map(|c| c.year).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(counts.iter().map(|c| c.facility_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(counts.iter().map(|c| c.product_id).collect::<Vec<_>>())
        .bind::<Array<Date>, _>(counts.iter().map(|c| span(c).0).collect::<Vec<_>>())
        .bind::<Array<Date>, _>(counts.iter().map(|c| span(c).1).collect::<Vec<_>>())
        .bind::<BigInt, _>(LISTED_DISPENSINGS)
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;
    let mut first_ids: BTreeMap<(SubstanceId, i32), Vec<Dated>> = BTreeMap::new();
    for l in listed {
        first_ids.entry((l.substance_id, l.year)).or_default().push((l.dispensed_at, l.id));
    }

    let mut findings = Vec::new();
    for group in counts.chunk_by(|a, b| (a.substance_id, a.year) == (b.substance_id, b.year)) {
        let key = (group[0].substance_id, group[0].year);
        let Some(candidate) = candidates.get(&key) else { continue };
        let mut facilities: BTreeMap<FacilityId, PerFacility> = BTreeMap::new();
        for c in group {
            let f = facilities.entry(c.facility_id).or_default();
            f.records += c.records;
            f.units += c.units;
            f.base_mg += &c.base_mg;
            f.products.push(c.product_id);
        }
        let records: i64 = facilities.values().map(|f| f.records).sum();
        if records < params.min_records {
            continue;
        }
        let mut earliest = first_ids.remove(&key).unwrap_or_default();
        earliest.sort_unstable();
        let ids: Vec<LedgerEntryId> = earliest.into_iter().take(LISTED_DISPENSINGS as usize).map(|(_, id)| id).collect();
        let base_mg: BigDecimal = facilities.values().map(|f| f.base_mg.clone()).sum();
        let n = facilities.len();
        findings.push(Finding {
            subject_type: SubjectType::Substance,
            subject_id: candidate.substance_id.to_string(),
            facility_id: None,
            region_id: None,
            severity: if records >= params.high_from { Severity::High } else { Severity::Medium },
            title: format!(
                "{} dispensed {records} time{} at {n} facilit{} in {} with no estimate for the year",
                candidate.inn,
                if records == 1 { "" } else { "s" },
                if n == 1 { "y" } else { "ies" },
                candidate.year
            ),
            evidence: json!({
                "records": {"facilities": facilities.keys().collect::<Vec<_>>(), "dispensings": ids},
                "figures": {
                    "substance": candidate.inn,
                    "convention": candidate.convention,
                    "year": candidate.year,
                    "records": records,
                    "base_mg": Decimal::from(base_mg).round(6),
                    "facilities": facilities.iter().map(|(id, f)| json!({
                        "facility_id": id,
                        "records": f.records,
                        "units": f.units,
                        "base_mg": Decimal::from(f.base_mg.clone()).round(6),
                        "product_ids": f.products,
                    })).collect::<Vec<_>>(),
                    "dispensings_listed": LISTED_DISPENSINGS,
                },
                "thresholds": {"min_records": params.min_records, "high_from": params.high_from},
            }),
            period: Some((candidate.period_from, candidate.period_to)),
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
