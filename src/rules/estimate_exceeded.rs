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

use crate::domain::ids::{EstimateId, ImportAuthorizationId, SubstanceId};
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
    substance_id: SubstanceId,
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
    estimate_ids: Vec<EstimateId>,
    #[diesel(sql_type = Array<BigInt>)]
    authorization_ids: Vec<ImportAuthorizationId>,
    #[diesel(sql_type = Bool)]
    high: bool,
}

/// One statement over the small tables (estimates, authorizations) and the maintained
/// `supply_monthly` aggregate; grams stay SQL `numeric` throughout.
const SQL: &str = include_str!("estimate_exceeded.sql");

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
