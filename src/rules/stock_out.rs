//! `stock_out`: a pharmacy or hospital pharmacy that has had none of a product it stocks
//! for at least `min_days` (7) on the scan's last day (or today, if earlier). One finding
//! per facility listing its products at zero; high from `high_days` (30).

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::ids::{FacilityId, ProductId, RegionId};
use crate::db::enums::Severity;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Days at zero before a stock-out is a finding.
    pub min_days: i64,
    /// Days at zero from which it is high.
    pub high_days: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_days: 7, high_days: 30 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.min_days < 0 || self.high_days < self.min_days {
            return Err("min_days must not be negative and high_days at least min_days".into());
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
    product_ids: Vec<ProductId>,
    #[diesel(sql_type = Array<Timestamptz>)]
    zero_since: Vec<chrono::DateTime<Utc>>,
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let day: NaiveDate = ctx.range.to.min(ctx.today);
    // Days at zero are the country's days: zero since before local midnight of the cut-off day.
    let cutoff = ctx.range.midnight(day - Duration::days(params.min_days) + Duration::days(1));
    let rows: Vec<Row> = diesel::sql_query(include_str!("stock_out.sql"))
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(cutoff)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let days: Vec<i64> = r.zero_since.iter().map(|z| (day - crate::domain::period::local_day(ctx.range.zone, *z)).num_days()).collect();
            let longest = days.iter().copied().max().unwrap_or(0);
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                if longest >= params.high_days { Severity::High } else { Severity::Medium },
                format!("{} product(s) out of stock, the longest for {longest} days", r.product_ids.len()),
                json!({
                    "records": {"stock_balances": r.product_ids.iter().map(|p| json!({"facility_id": r.facility_id, "product_id": p})).collect::<Vec<_>>()},
                    "figures": {"products": r.product_ids.iter().zip(&days).zip(&r.zero_since).map(|((p, d), z)| json!({"product_id": p, "days_at_zero": d, "zero_since": z})).collect::<Vec<_>>(), "as_of": day},
                    "thresholds": {"min_days": params.min_days, "high_days": params.high_days},
                }),
            )
        })
        .collect())
}
