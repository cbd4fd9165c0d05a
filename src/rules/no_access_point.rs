//! `no_access_point`: a region where patients have too few places to get opioid analgesics:
//! fewer licensed pharmacies and hospital pharmacies than `min_per_100k` per 100 000
//! inhabitants (by default: none at all). High when there is none.

use bigdecimal::BigDecimal;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analytics::stock_outs::access_points;
use crate::db::enums::{Severity, SubjectType};
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Licensed dispensing facilities per 100 000 inhabitants below which a region is
    /// flagged; 0 flags only regions with none.
    pub min_per_100k: Decimal,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_per_100k: Decimal::from(0) }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_per_100k.0 < 0 {
            return Err("min_per_100k must not be negative".into());
        }
        Ok(())
    }
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let day = ctx.range.to.min(ctx.today);
    let (facilities, _) = Facility::page(conn, &FacilityFilter { country_code: Some(ctx.country.clone()), ..Default::default() }, 0, i64::MAX)?;
    Ok(access_points(conn, &ctx.country, None, &facilities, day)?
        .into_iter()
        .filter(|a| a.dispensing_facilities == 0 || a.per_100k.as_ref().is_some_and(|p| p.0 < params.min_per_100k.0))
        .map(|a| Finding {
            subject_type: SubjectType::Region,
            subject_id: a.region_id.to_string(),
            facility_id: None,
            region_id: Some(a.region_id),
            severity: if a.dispensing_facilities == 0 { Severity::High } else { Severity::Medium },
            title: format!("{}: {} licensed dispensing facilities", a.name, a.dispensing_facilities),
            evidence: json!({
                "records": {},
                "figures": {"dispensing_facilities": a.dispensing_facilities, "population": a.population, "per_100k": a.per_100k, "as_of": day},
                "thresholds": {"min_per_100k": params.min_per_100k, "none": BigDecimal::from(0).to_string()},
            }),
            period: None,
        })
        .collect())
}
