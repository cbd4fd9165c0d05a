//! `unusual_order_size`: a facility received far more of a product in a month than it
//! usually does.
//!
//! Per facility, product and month overlapping the period (the finding's period is that
//! month), the month's receipts (`facility_monthly` buckets `receipt`, `import_receipt`,
//! `transfer_in`) are compared with the median of the prior `baseline_months` months, months
//! without receipts counting as 0. A month above `factor` × that median is flagged when at
//! least `min_history` of the baseline months had receipts and the median is positive. One
//! finding per facility and month lists its products.
//!
//! Severity: `medium`: a statistical signal that asks for an explanation (an epidemic, a new
//! ward), not evidence of diversion by itself.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::domain::period::Month;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A month's receipts above this multiple of the baseline median are flagged.
    pub factor: Decimal,
    /// Months before the month that make its baseline.
    pub baseline_months: i64,
    /// Baseline months that must have had receipts for the baseline to count.
    pub min_history: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params { factor: Decimal::from(3), baseline_months: 6, min_history: 3 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.factor < Decimal::from(1) {
            return Err("factor must be at least 1".into());
        }
        if !(1..=36).contains(&self.baseline_months) {
            return Err("baseline_months must be between 1 and 36".into());
        }
        if self.min_history < 1 || self.min_history > self.baseline_months {
            return Err("min_history must be between 1 and baseline_months".into());
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
    #[diesel(sql_type = Date)]
    month: NaiveDate,
    #[diesel(sql_type = Jsonb)]
    products: Value,
    #[diesel(sql_type = Array<BigInt>)]
    event_ids: Vec<i64>,
    #[diesel(sql_type = Numeric)]
    max_ratio: bigdecimal::BigDecimal,
}

/// Candidates are the facility/product pairs with a receipt entry in the months (found
/// through the ledger's country/time index); their monthly receipts and baselines come from
/// the maintained `facility_monthly` aggregate (by its primary key).
const SQL: &str = "\
WITH pairs AS ( \
    SELECT DISTINCT e.facility_id, e.product_id FROM stock_events e \
    WHERE e.country_code = $1 AND e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
      AND e.occurred_at >= $2 AND e.occurred_at < $3), \
monthly AS ( \
    SELECT fm.facility_id, fm.product_id, fm.month, sum(fm.units)::bigint AS units \
    FROM facility_monthly fm JOIN pairs p ON p.facility_id = fm.facility_id AND p.product_id = fm.product_id \
    WHERE fm.bucket IN ('receipt', 'import_receipt', 'transfer_in') \
      AND fm.month >= ($4::date - make_interval(months => $6::int))::date AND fm.month <= $5::date \
    GROUP BY fm.facility_id, fm.product_id, fm.month), \
target AS (SELECT * FROM monthly WHERE month >= $4::date AND units > 0), \
base AS ( \
    SELECT t.facility_id, t.product_id, t.month, t.units, \
           array_agg(coalesce(b.units, 0) ORDER BY coalesce(b.units, 0)) AS sorted, \
           jsonb_agg(jsonb_build_object('month', to_char(t.month - make_interval(months => g.k), 'YYYY-MM'), \
               'units', coalesce(b.units, 0)) ORDER BY g.k DESC) AS baseline, \
           count(*) FILTER (WHERE b.units > 0) AS history \
    FROM target t CROSS JOIN generate_series(1, $6::int) g(k) \
    LEFT JOIN monthly b ON b.facility_id = t.facility_id AND b.product_id = t.product_id \
         AND b.month = (t.month - make_interval(months => g.k))::date \
    GROUP BY t.facility_id, t.product_id, t.month, t.units), \
hit AS ( \
    SELECT * FROM ( \
        SELECT b.*, trim_scale((b.sorted[($6::int + 1) / 2] + b.sorted[$6::int / 2 + 1])::numeric / 2) AS median FROM base b \
        WHERE b.history >= $7) m \
    WHERE m.median > 0 AND m.units > $8 * m.median), \
ev AS ( \
    SELECT h.facility_id, h.month, e.id FROM hit h JOIN stock_events e \
      ON e.facility_id = h.facility_id AND e.product_id = h.product_id \
     AND e.occurred_at >= h.month::timestamp AT TIME ZONE 'UTC' \
     AND e.occurred_at < (h.month + interval '1 month')::timestamp AT TIME ZONE 'UTC' \
    WHERE e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
      AND NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = e.id)), \
ids AS (SELECT facility_id, month, array_agg(id ORDER BY id) AS event_ids FROM ev GROUP BY facility_id, month) \
SELECT h.facility_id, f.region_id, h.month, \
       jsonb_agg(jsonb_build_object('product_id', h.product_id, 'units', h.units, 'median', h.median, \
           'ratio', trim_scale(round(h.units / h.median, 2)), 'months_with_receipts', h.history, 'baseline', h.baseline) \
           ORDER BY h.product_id) AS products, \
       coalesce(min(ids.event_ids), '{}') AS event_ids, max(round(h.units / h.median, 2)) AS max_ratio \
FROM hit h JOIN facilities f ON f.id = h.facility_id \
LEFT JOIN ids ON ids.facility_id = h.facility_id AND ids.month = h.month \
GROUP BY h.facility_id, f.region_id, h.month ORDER BY h.month, h.facility_id";

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let first = Month::of(ctx.range.from);
    let last = Month::of(ctx.range.to);
    let rows: Vec<Row> = diesel::sql_query(SQL)
        .bind::<Text, _>(&ctx.country)
        .bind::<Timestamptz, _>(first.bounds().0)
        .bind::<Timestamptz, _>(last.bounds().1)
        .bind::<Date, _>(first.first_day())
        .bind::<Date, _>(last.first_day())
        .bind::<BigInt, _>(params.baseline_months)
        .bind::<BigInt, _>(params.min_history)
        .bind::<Numeric, _>(&params.factor.0)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let month = Month::of(r.month);
            let n = r.products.as_array().map_or(0, Vec::len);
            Finding {
                subject_type: SubjectType::Facility,
                subject_id: r.facility_id.to_string(),
                facility_id: Some(r.facility_id),
                region_id: Some(r.region_id),
                severity: Severity::Medium,
                title: format!(
                    "{}: receipts of {n} product(s) up to {} × the median of the prior {} months",
                    month.label(),
                    Decimal(r.max_ratio.clone()),
                    params.baseline_months
                ),
                evidence: json!({
                    "records": {"stock_events": r.event_ids},
                    "figures": {"month": month.label(), "products": r.products, "max_ratio": Decimal(r.max_ratio)},
                    "thresholds": {"factor": params.factor, "baseline_months": params.baseline_months, "min_history": params.min_history},
                }),
                period: Some((month.first_day(), month.last_day())),
            }
        })
        .collect())
}
