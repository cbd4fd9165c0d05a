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
use diesel::sql_types::{Array, BigInt, Jsonb, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::enums::{Severity, SubjectType};
use crate::rules::{Finding, ScanContext};

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

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    facility_id: i64,
    #[diesel(sql_type = BigInt)]
    region_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    attempt_ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    product_ids: Vec<i64>,
    #[diesel(sql_type = Jsonb)]
    by_code: Value,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(
        "WITH a AS ( \
             SELECT a.id, a.facility_id, a.product_id, a.code FROM refused_attempts a \
             WHERE a.country_code = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND a.facility_id IS NOT NULL \
               AND a.code IN ('authorization_exceeded', 'authorization_not_valid', 'licence_expired')), \
         c AS (SELECT facility_id, jsonb_object_agg(code, n) AS by_code \
               FROM (SELECT facility_id, code, count(*) AS n FROM a GROUP BY facility_id, code) x GROUP BY facility_id), \
         g AS (SELECT facility_id, array_agg(id ORDER BY id) AS attempt_ids, \
                      coalesce(array_agg(DISTINCT product_id) FILTER (WHERE product_id IS NOT NULL), '{}') AS product_ids \
               FROM a GROUP BY facility_id HAVING count(*) >= $4) \
         SELECT g.facility_id, f.region_id, g.attempt_ids, g.product_ids, c.by_code \
         FROM g JOIN c ON c.facility_id = g.facility_id JOIN facilities f ON f.id = g.facility_id \
         ORDER BY g.facility_id",
    )
    .bind::<Text, _>(&ctx.country)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<BigInt, _>(params.min_attempts)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = r.attempt_ids.len() as i64;
            Finding {
                subject_type: SubjectType::Facility,
                subject_id: r.facility_id.to_string(),
                facility_id: Some(r.facility_id),
                region_id: Some(r.region_id),
                severity: Severity::High,
                title: format!("{n} refused import receipt(s) beyond or outside an authorization or licence"),
                evidence: json!({
                    "records": {"refused_attempts": r.attempt_ids},
                    "figures": {"attempts": n, "by_code": r.by_code, "product_ids": r.product_ids},
                    "thresholds": {"min_attempts": params.min_attempts},
                }),
                period: None,
            }
        })
        .collect())
}
