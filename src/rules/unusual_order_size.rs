//! `unusual_order_size`: a facility received far more of a product in a month than it
//! usually does.
//!
//! Per facility, product and month overlapping the period (the finding's period is that
//! month), the month's receipts (`facility_monthly` buckets `receipt`, `import_receipt`,
//! `transfer_in`) are compared with the median of the prior `baseline_months` months, months
//! without receipts counting as 0. A month above `factor` × that median is flagged when at
//! least `min_history` of the baseline months had receipts and the median is positive. One
//! finding per facility and month lists its products. When the period covers its months
//! only in part (a daily scan), only the facility/product pairs with receipts in the period
//! are evaluated: the others' month totals did not change in it.
//!
//! Severity: `medium`: a statistical signal that asks for an explanation (an epidemic, a new
//! ward), not evidence of diversion by itself.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Numeric, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::enums::Severity;
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

/// One statement over the maintained `facility_monthly` aggregate: the country's monthly
/// receipts from the first baseline month to the last month; per facility/product and month
/// the months with receipts among the prior `baseline_months` (a window over a date range,
/// so months without receipts need no rows: they are the zeros), a cheap necessary condition
/// (above `factor` × the smallest baseline value), then the exact median of the few left;
/// finally the baseline and the receipt entries of the months flagged.
///
/// `/*pairs*/` restricts the facility/product pairs to those with receipts (or reversed
/// receipts) in the period, used when the period covers its months only in part: a month's
/// total changed only through them.
const SQL: &str = "\
WITH monthly AS ( \
    SELECT fm.facility_id, fm.product_id, fm.month, sum(fm.units)::bigint AS units \
    FROM facility_monthly fm JOIN facilities f ON f.id = fm.facility_id \
    WHERE f.country_code = $1 AND fm.bucket IN ('receipt', 'import_receipt', 'transfer_in') \
      AND fm.month >= ($2::date - make_interval(months => $4::int))::date AND fm.month <= $3::date /*pairs*/ \
    GROUP BY fm.facility_id, fm.product_id, fm.month), \
win AS ( \
    SELECT m.facility_id, m.product_id, m.month, m.units, \
           coalesce(array_agg(m.units) FILTER (WHERE m.units <> 0) OVER w, '{}') AS prior, \
           count(*) FILTER (WHERE m.units > 0) OVER w AS history, \
           min(m.units) FILTER (WHERE m.units <> 0) OVER w AS least \
    FROM monthly m \
    WINDOW w AS (PARTITION BY m.facility_id, m.product_id ORDER BY m.month \
                 RANGE BETWEEN make_interval(months => $4::int) PRECEDING AND interval '1 day' PRECEDING)), \
cand AS ( \
    SELECT w.facility_id, w.product_id, w.month, w.units, w.history, q.median \
    FROM win w CROSS JOIN LATERAL ( \
        SELECT trim_scale((z.s[($4::int + 1) / 2] + z.s[$4::int / 2 + 1])::numeric / 2) AS median \
        FROM (SELECT array_agg(v ORDER BY v) AS s \
              FROM unnest(array_fill(0::bigint, ARRAY[$4::int - cardinality(w.prior)]) || w.prior) v) z) q \
    WHERE w.month >= $2::date AND w.units > 0 AND w.history >= $5 \
      AND w.units > $6 * CASE WHEN cardinality(w.prior) < $4 THEN LEAST(w.least, 0) ELSE w.least END), \
hit AS ( \
    SELECT c.*, \
           (SELECT jsonb_agg(jsonb_build_object('month', to_char(c.month - make_interval(months => k), 'YYYY-MM'), 'units', \
                coalesce((SELECT sum(fm.units) FROM facility_monthly fm \
                          WHERE fm.facility_id = c.facility_id AND fm.product_id = c.product_id \
                            AND fm.month = (c.month - make_interval(months => k))::date \
                            AND fm.bucket IN ('receipt', 'import_receipt', 'transfer_in')), 0)) ORDER BY k DESC) \
            FROM generate_series(1, $4::int) k) AS baseline \
    FROM cand c WHERE c.median > 0 AND c.units > $6 * c.median), \
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
       coalesce(min(ids.event_ids), '{}') AS event_ids, trim_scale(max(round(h.units / h.median, 2))) AS max_ratio \
FROM hit h JOIN facilities f ON f.id = h.facility_id \
LEFT JOIN ids ON ids.facility_id = h.facility_id AND ids.month = h.month \
GROUP BY h.facility_id, f.region_id, h.month ORDER BY h.month, h.facility_id";

/// The pairs with receipt entries, or reversals of receipts, in `[$7, $8)`.
const PAIRS: &str = "AND (fm.facility_id, fm.product_id) IN ( \
    SELECT e.facility_id, e.product_id FROM stock_events e \
    WHERE e.country_code = $1 AND e.occurred_at >= $7 AND e.occurred_at < $8 \
      AND (e.kind IN ('receipt', 'import_receipt', 'transfer_in') \
           OR e.reversed_kind IN ('receipt', 'import_receipt', 'transfer_in')))";

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    let first = Month::of(ctx.range.from);
    let last = Month::of(ctx.range.to);
    let whole_months = ctx.range.from == first.first_day() && ctx.range.to == last.last_day();
    let sql = SQL.replace("/*pairs*/", if whole_months { "" } else { PAIRS });
    let (from, to) = ctx.range.bounds();
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(&ctx.country)
        .bind::<Date, _>(first.first_day())
        .bind::<Date, _>(last.first_day())
        .bind::<BigInt, _>(params.baseline_months)
        .bind::<BigInt, _>(params.min_history)
        .bind::<Numeric, _>(&params.factor.0)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let month = Month::of(r.month);
            let n = r.products.as_array().map_or(0, Vec::len);
            Finding::about_facility(
                r.facility_id,
                r.region_id,
                Severity::Medium,
                format!(
                    "{}: receipts of {n} product(s) up to {} × the median of the prior {} months",
                    month.label(),
                    Decimal(r.max_ratio.clone()),
                    params.baseline_months
                ),
                json!({
                    "records": {"stock_events": r.event_ids},
                    "figures": {"month": month.label(), "products": r.products, "max_ratio": Decimal(r.max_ratio)},
                    "thresholds": {"factor": params.factor, "baseline_months": params.baseline_months, "min_history": params.min_history},
                }),
            )
            .during(month.first_day(), month.last_day())
        })
        .collect())
}
