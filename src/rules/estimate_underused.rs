//! `estimate_underused`: a substance whose consumption in a year that has ended stayed
//! below `threshold_pct` (50) of the estimate in force — chronic under-use means patients
//! are likely going without. Evaluated for every year overlapping the scan that has ended
//! (finding period = the year); high below half the threshold, else medium.

use bigdecimal::BigDecimal;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analytics::Catalog;
use crate::analytics::availability::year_over;
use crate::analytics::estimates::{figures, percent};
use crate::db::enums::{Severity, SubjectType};
use crate::db::reports::flows::DateRange;
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Utilization (consumption ÷ estimate, percent) below which a year is under-used.
    pub threshold_pct: Decimal,
}

impl Default for Params {
    fn default() -> Self {
        Params { threshold_pct: Decimal::from(50) }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.threshold_pct.0 <= 0 || self.threshold_pct.0 > 100 {
            return Err("threshold_pct must be above 0 and at most 100".into());
        }
        Ok(())
    }
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let mut findings = Vec::new();
    for year in ctx.range.from.year()..=ctx.range.to.year() {
        if !year_over(year, ctx.today) {
            continue;
        }
        let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else { continue };
        let catalog = Catalog::load(conn, to)?;
        for (s, f) in figures(conn, &ctx.country, year, DateRange { from, to, zone: ctx.range.zone }, &catalog)? {
            let Some(estimate) = f.estimate_g.as_ref() else { continue };
            let Some(pct) = percent(&f.consumption_g, estimate) else { continue };
            if pct >= params.threshold_pct.0 {
                continue;
            }
            let severity = if pct * BigDecimal::from(2) < params.threshold_pct.0 { Severity::High } else { Severity::Medium };
            findings.push(Finding {
                subject_type: SubjectType::Substance,
                subject_id: s.to_string(),
                facility_id: None,
                region_id: None,
                severity,
                title: format!("{} {year}: {}% of the estimate consumed", catalog.inn(s), percent(&f.consumption_g, estimate).unwrap_or_default()),
                evidence: json!({
                    "records": {},
                    "figures": {"estimate_g": Decimal(estimate.normalized()), "consumption_g": Decimal(f.consumption_g.clone()), "received_g": Decimal(f.received_g.clone()), "utilization_pct": Decimal(percent(&f.consumption_g, estimate).unwrap_or_default())},
                    "thresholds": {"threshold_pct": params.threshold_pct},
                }),
                period: Some((from, to)),
            });
        }
    }
    Ok(findings)
}
