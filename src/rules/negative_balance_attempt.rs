//! `negative_balance_attempt`: a facility tried to move stock it did not have. Every
//! refused entry is kept as evidence; a facility with at least `min_attempts` of them in the
//! period is flagged.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::Severity;
use crate::rules::{Finding, ScanContext, refused};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Refused attempts in the period that raise a flag ("any": 1).
    pub min_attempts: i64,
    /// Attempts from which the flag is `high`.
    pub high_from: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_attempts: 1, high_from: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_attempts < 1 || self.high_from < self.min_attempts {
            return Err("min_attempts must be at least 1 and high_from at least min_attempts".into());
        }
        Ok(())
    }
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let rows = refused::by_facility(conn, ctx, &["insufficient_stock"], params.min_attempts)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = r.ids.len() as i64;
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if n >= params.high_from { Severity::High } else { Severity::Medium },
                format!("{n} refused attempts to move stock the facility did not have"),
                json!({
                    "records": {"refused_attempts": r.ids},
                    "figures": {"attempts": n, "product_ids": r.product_ids},
                    "thresholds": {"min_attempts": params.min_attempts, "high_from": params.high_from},
                }),
            )
        })
        .collect())
}
