//! `receipt_without_authorization`: a facility tried to book an import receipt beyond its
//! authorization, outside the authorization's validity or under an expired licence.
//!
//! Such receipts are refused and recorded (`refused_attempts` with the codes
//! `authorization_exceeded`, `authorization_not_valid`, `licence_expired`); a facility with
//! at least `min_attempts` of them in the period is flagged.
//!
//! Severity: always `high`: controlled substances arrived, or were declared, outside the
//! import control system.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::Severity;
use crate::rules::{Finding, ScanContext, refused};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Refused receipts in the period that raise a flag ("any": 1).
    pub min_attempts: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_attempts: 1 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_attempts < 1 {
            return Err("min_attempts must be at least 1".into());
        }
        Ok(())
    }
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let rows = refused::by_facility(conn, ctx, &["authorization_exceeded", "authorization_not_valid", "licence_expired"], params.min_attempts)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = r.ids.len() as i64;
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                Severity::High,
                format!("{n} refused import receipt(s) beyond or outside an authorization or licence"),
                json!({
                    "records": {"refused_attempts": r.ids},
                    "figures": {"attempts": n, "by_code": r.details, "product_ids": r.product_ids},
                    "thresholds": {"min_attempts": params.min_attempts},
                }),
            )
        })
        .collect())
}
