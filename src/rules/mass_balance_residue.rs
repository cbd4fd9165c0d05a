//! `mass_balance_residue`: a substance whose yearly mass balance (wholesale or retail)
//! leaves a residue beyond `tolerance_pct` of its throughput. Evaluated for every calendar
//! year that overlaps the scan (finding period = the year, up to the scan's end); medium.

use bigdecimal::BigDecimal;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Residue allowed, in percent of opening stock plus inflow.
    pub tolerance_pct: Decimal,
}

impl Default for Params {
    fn default() -> Self {
        Params { tolerance_pct: Decimal::from(1) }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.tolerance_pct.0 < 0 || self.tolerance_pct.0 > 100 {
            return Err("tolerance_pct must be between 0 and 100".into());
        }
        Ok(())
    }
}

/// The tolerance the country's rule is configured with.
pub fn tolerance(conn: &mut PgConnection, country: &str) -> QueryResult<BigDecimal> {
    use crate::db::schema::rules as r;
    let params: Option<serde_json::Value> = r::table.find((country, "mass_balance_residue")).select(r::params).first(conn).optional()?;
    Ok(params.and_then(|p| serde_json::from_value::<Params>(p).ok()).unwrap_or_default().tolerance_pct.0)
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let mut findings = Vec::new();
    for year in ctx.range.from.year()..=ctx.range.to.year() {
        let (Some(start), Some(end)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else { continue };
        let to = end.min(ctx.range.to).min(ctx.today);
        if to < start {
            continue;
        }
        for b in crate::analytics::mass_balance::balances(conn, &ctx.country, year, to, &params.tolerance_pct.0, None)? {
            if b.findings.is_empty() {
                continue;
            }
            findings.push(Finding {
                subject_type: SubjectType::Substance,
                subject_id: b.substance_id.to_string(),
                facility_id: None,
                region_id: None,
                severity: Severity::Medium,
                title: format!("{} {year}: the mass balance leaves a residue beyond {}%", b.inn, params.tolerance_pct),
                evidence: json!({
                    "records": {},
                    "figures": {"wholesale": b.wholesale, "retail": b.retail, "in_transit_or_short_g": b.in_transit_or_short_g, "findings": b.findings},
                    "thresholds": {"tolerance_pct": params.tolerance_pct},
                }),
                period: Some((start, to)),
            });
        }
    }
    Ok(findings)
}
