//! `inventory_variance`: a physical count found less on the shelf than the book balance.
//!
//! Every inventory count of the country's facilities with `counted_at` in the period and a
//! shortfall (variance < 0) greater than `pct` percent of the expected units or greater than
//! `units` units is evidence; one finding per facility lists its counts.
//!
//! Severity: `medium`; `high` when a count is short by more than `high_pct` percent of
//! its expected units.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::ids::{FacilityId, InventoryCountId, ProductId, RegionId};
use crate::db::enums::Severity;
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A shortfall greater than this percentage of the expected units is flagged.
    pub pct: Decimal,
    /// A shortfall greater than this many units is flagged, whatever the percentage.
    pub units: i64,
    /// A shortfall greater than this percentage of the expected units makes the flag `high`.
    pub high_pct: Decimal,
}

impl Default for Params {
    fn default() -> Self {
        Params { pct: Decimal::from(2), units: 5, high_pct: Decimal::from(10) }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        let hundred = Decimal::from(100);
        if self.pct < Decimal::zero() || self.pct > hundred {
            return Err("pct must be between 0 and 100".into());
        }
        if self.units < 0 {
            return Err("units must not be negative".into());
        }
        if self.high_pct < self.pct || self.high_pct > hundred {
            return Err("high_pct must be between pct and 100".into());
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
    count_ids: Vec<InventoryCountId>,
    #[diesel(sql_type = Array<BigInt>)]
    product_ids: Vec<ProductId>,
    #[diesel(sql_type = Jsonb)]
    counts: Value,
    #[diesel(sql_type = BigInt)]
    shortfall_units: i64,
    #[diesel(sql_type = Bool)]
    high: bool,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(include_str!("inventory_variance.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Numeric, _>(&params.pct.0)
        .bind::<BigInt, _>(params.units)
        .bind::<Numeric, _>(&params.high_pct.0)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = r.count_ids.len();
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if r.high { Severity::High } else { Severity::Medium },
                format!("{n} inventory count(s) short of the book balance by {} units in all", r.shortfall_units),
                json!({
                    "records": {"inventory_counts": r.count_ids},
                    "figures": {"counts": r.counts, "shortfall_units": r.shortfall_units, "product_ids": r.product_ids},
                    "thresholds": {"pct": params.pct, "units": params.units, "high_pct": params.high_pct},
                }),
            )
        })
        .collect())
}
