//! `transfer_mismatch`: a transfer arrived short, or its receipt was not confirmed in time.
//!
//! Transfers of the country shipped in the period are evidence when they were received
//! short (`received_units < quantity_units`, shortfalls of at least `min_shortfall_units`)
//! or are still unconfirmed more than `confirm_days` days after shipment (judged against
//! the scan day). One finding per destination facility lists its transfers.
//!
//! Severity: `high` when a transfer arrived short (units left the supply chain between two
//! facilities); `medium` when transfers are only unconfirmed.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::ids::{FacilityId, RegionId, TransferId};
use crate::db::enums::Severity;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Days after shipment by which the destination must confirm the receipt.
    pub confirm_days: i64,
    /// The smallest shortfall, in units, that is flagged ("any shortfall": 1).
    pub min_shortfall_units: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { confirm_days: 7, min_shortfall_units: 1 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if !(0..=366).contains(&self.confirm_days) {
            return Err("confirm_days must be between 0 and 366".into());
        }
        if self.min_shortfall_units < 1 {
            return Err("min_shortfall_units must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    facility_id: FacilityId,
    #[diesel(sql_type = BigInt)]
    region_id: RegionId,
    #[diesel(sql_type = Array<BigInt>)]
    transfer_ids: Vec<TransferId>,
    #[diesel(sql_type = Jsonb)]
    transfers: Value,
    #[diesel(sql_type = BigInt)]
    short: i64,
    #[diesel(sql_type = BigInt)]
    shortfall_units: i64,
    #[diesel(sql_type = BigInt)]
    unconfirmed: i64,
}

const SQL: &str = include_str!("transfer_mismatch.sql");

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(SQL)
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Date, _>(ctx.today)
        .bind::<BigInt, _>(params.confirm_days)
        .bind::<BigInt, _>(params.min_shortfall_units)
        .bind::<Text, _>(ctx.range.zone.name())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut reasons = Vec::new();
            if r.short > 0 {
                reasons.push(format!("{} transfer(s) received {} units short", r.short, r.shortfall_units));
            }
            if r.unconfirmed > 0 {
                reasons.push(format!("{} transfer(s) unconfirmed after {} days", r.unconfirmed, params.confirm_days));
            }
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if r.short > 0 { Severity::High } else { Severity::Medium },
                reasons.join("; "),
                json!({
                    "records": {"transfers": r.transfer_ids},
                    "figures": {
                        "transfers": r.transfers, "short_transfers": r.short, "shortfall_units": r.shortfall_units,
                        "unconfirmed_transfers": r.unconfirmed,
                    },
                    "thresholds": {"confirm_days": params.confirm_days, "min_shortfall_units": params.min_shortfall_units},
                }),
            )
        })
        .collect())
}
