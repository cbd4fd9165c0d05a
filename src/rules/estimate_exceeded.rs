//! `estimate_exceeded`: a substance's imports or consumption in a year passed the country's
//! confirmed estimate.
//!
//! Per substance and calendar year overlapping the period (the finding's period is that whole
//! year), the estimate total in force (annual plus supplementary estimates) is compared, in
//! exact grams of base, with:
//! - authorized imports: `import_authorizations.quantity_g` of that year;
//! - received imports: `import_receipt` movements of that year (units × base mg per unit);
//! - consumption: the supply to the retail level (pharmacies and hospitals) in that year,
//!   the net of their `import_receipt`, `receipt`, `transfer_in` and `transfer_out`
//!   movements.
//!
//! Severity: `high` when the largest of the three is above `exceed_pct` percent of the
//! estimate, or when there are imports or consumption but no estimate at all; `low` (a
//! warning) from `warn_pct` percent.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Numeric, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::enums::{Severity, SubjectType};
use crate::domain::decimal::Decimal;
use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Percent of the estimate above which the flag is `high`.
    pub exceed_pct: Decimal,
    /// Percent of the estimate from which a `low` warning is raised.
    pub warn_pct: Decimal,
}

impl Default for Params {
    fn default() -> Self {
        Params { exceed_pct: Decimal::from(100), warn_pct: Decimal::from(90) }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        if self.warn_pct <= Decimal::zero() {
            return Err("warn_pct must be positive".into());
        }
        if self.exceed_pct < self.warn_pct {
            return Err("exceed_pct must be at least warn_pct".into());
        }
        if self.exceed_pct > Decimal::from(100_000) {
            return Err("exceed_pct must be at most 100000".into());
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    substance_id: i64,
    #[diesel(sql_type = Text)]
    inn: String,
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = Nullable<Numeric>)]
    estimate_g: Option<bigdecimal::BigDecimal>,
    #[diesel(sql_type = Numeric)]
    authorized_g: bigdecimal::BigDecimal,
    #[diesel(sql_type = Numeric)]
    received_g: bigdecimal::BigDecimal,
    #[diesel(sql_type = Numeric)]
    consumed_g: bigdecimal::BigDecimal,
    #[diesel(sql_type = Array<BigInt>)]
    estimate_ids: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    authorization_ids: Vec<i64>,
    #[diesel(sql_type = Bool)]
    high: bool,
}

/// One statement over the small tables (estimates, authorizations) and the maintained
/// `supply_monthly` aggregate; grams stay SQL `numeric` throughout.
const SQL: &str = "\
WITH est AS ( \
    SELECT substance_id, year, sum(quantity_g) AS g, array_agg(id ORDER BY id) AS ids FROM estimates \
    WHERE country_code = $1 AND year BETWEEN $2 AND $3 GROUP BY substance_id, year), \
auth AS ( \
    SELECT substance_id, year, sum(quantity_g) AS g, array_agg(id ORDER BY id) AS ids FROM import_authorizations \
    WHERE country_code = $1 AND year BETWEEN $2 AND $3 GROUP BY substance_id, year), \
mov AS ( \
    SELECT p.substance_id, extract(year FROM s.month)::int AS year, \
           coalesce(sum(s.units * p.base_mg_per_unit) FILTER (WHERE s.bucket = 'import_receipt'), 0) / 1000 AS received_g, \
           coalesce(sum(s.units * p.base_mg_per_unit) FILTER (WHERE s.facility_kind IN ('pharmacy', 'hospital')), 0) / 1000 AS consumed_g \
    FROM supply_monthly s JOIN products p ON p.id = s.product_id \
    WHERE s.country_code = $1 AND s.month >= make_date($2, 1, 1) AND s.month < make_date($3 + 1, 1, 1) \
      AND s.bucket IN ('import_receipt', 'receipt', 'transfer_in', 'transfer_out') \
    GROUP BY p.substance_id, extract(year FROM s.month)), \
k AS (SELECT substance_id, year FROM est UNION SELECT substance_id, year FROM auth UNION SELECT substance_id, year FROM mov), \
v AS ( \
    SELECT k.substance_id, k.year, est.g AS estimate_g, coalesce(auth.g, 0) AS authorized_g, \
           coalesce(mov.received_g, 0) AS received_g, coalesce(mov.consumed_g, 0) AS consumed_g, \
           coalesce(est.ids, '{}') AS estimate_ids, coalesce(auth.ids, '{}') AS authorization_ids \
    FROM k LEFT JOIN est USING (substance_id, year) LEFT JOIN auth USING (substance_id, year) \
    LEFT JOIN mov USING (substance_id, year)), \
w AS (SELECT v.*, GREATEST(v.authorized_g, v.received_g, v.consumed_g) AS worst_g FROM v) \
SELECT w.substance_id, s.inn, w.year, w.estimate_g, w.authorized_g, w.received_g, w.consumed_g, w.estimate_ids, \
       w.authorization_ids, (w.estimate_g IS NULL OR w.worst_g * 100 > $4 * w.estimate_g) AS high \
FROM w JOIN substances s ON s.id = w.substance_id \
WHERE w.worst_g > 0 AND (w.estimate_g IS NULL OR w.worst_g * 100 >= $5 * w.estimate_g) \
ORDER BY w.year, w.substance_id";

fn pct(part: &bigdecimal::BigDecimal, whole: Option<&bigdecimal::BigDecimal>) -> Option<Decimal> {
    let whole = whole.filter(|w| *w > &bigdecimal::BigDecimal::from(0))?;
    Some(Decimal(part * bigdecimal::BigDecimal::from(100) / whole).round(2))
}

pub fn evaluate(conn: &mut PgConnection, ctx: &ScanContext, params: &Params) -> QueryResult<Vec<Finding>> {
    use chrono::{Datelike, NaiveDate};
    let rows: Vec<Row> = diesel::sql_query(SQL)
        .bind::<Text, _>(&ctx.country)
        .bind::<Integer, _>(ctx.range.from.year())
        .bind::<Integer, _>(ctx.range.to.year())
        .bind::<Numeric, _>(&params.exceed_pct.0)
        .bind::<Numeric, _>(&params.warn_pct.0)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let year_bounds = (NaiveDate::from_ymd_opt(r.year, 1, 1)?, NaiveDate::from_ymd_opt(r.year, 12, 31)?);
            let est = r.estimate_g.as_ref();
            let measures = [("authorized_imports", &r.authorized_g), ("received_imports", &r.received_g), ("consumption", &r.consumed_g)];
            let (worst_name, worst) = measures.iter().fold(measures[0], |a, b| if b.1 > a.1 { *b } else { a });
            let exceeded: Vec<&str> = measures
                .iter()
                .filter(|(_, g)| match est {
                    None => *g > &bigdecimal::BigDecimal::from(0),
                    Some(e) => *g * bigdecimal::BigDecimal::from(100) >= &params.warn_pct.0 * e,
                })
                .map(|(name, _)| *name)
                .collect();
            let title = match (est, pct(worst, est)) {
                (Some(e), Some(p)) => format!("{} {}: {worst_name} at {p} % of the estimate ({} g of {} g)", r.inn, r.year, Decimal(worst.clone()).round(3), Decimal(e.clone())),
                _ => format!("{} {}: {} g of {worst_name} without any estimate", r.inn, r.year, Decimal(worst.clone()).round(3)),
            };
            Some(Finding {
                subject_type: SubjectType::Substance,
                subject_id: r.substance_id.to_string(),
                facility_id: None,
                region_id: None,
                severity: if r.high { Severity::High } else { Severity::Low },
                title,
                evidence: json!({
                    "records": {"estimates": r.estimate_ids, "import_authorizations": r.authorization_ids},
                    "figures": {
                        "substance": r.inn, "year": r.year,
                        "estimate_g": r.estimate_g.clone().map(Decimal),
                        "authorized_g": Decimal(r.authorized_g.clone()),
                        "received_g": Decimal(r.received_g.clone()),
                        "consumed_g": Decimal(r.consumed_g.clone()),
                        "authorized_pct": pct(&r.authorized_g, est),
                        "received_pct": pct(&r.received_g, est),
                        "consumed_pct": pct(&r.consumed_g, est),
                        "exceeded": exceeded, "no_estimate": est.is_none(),
                    },
                    "thresholds": {"exceed_pct": params.exceed_pct, "warn_pct": params.warn_pct},
                }),
                period: Some(year_bounds),
            })
        })
        .collect())
}
