//! Estimate utilization: per substance and year, the estimate in force against authorized
//! and received imports and against consumption.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode, Zero};
use diesel::prelude::*;

use crate::analytics::{Catalog, grams, supplies_retail};
use crate::db::enums::StockEventKind;
use crate::db::reports::flows::{self, DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::ids::SubstanceId;

/// Percent of `part` in `whole`, to two decimals.
pub fn percent(part: &BigDecimal, whole: &BigDecimal) -> Option<BigDecimal> {
    (!whole.is_zero()).then(|| (part * BigDecimal::from(100) / whole).with_scale_round(2, RoundingMode::HalfUp))
}

/// Figures of one substance and year, in grams.
#[derive(Debug, Clone, Default)]
pub struct EstimateUse {
    pub estimate_g: Option<BigDecimal>,
    pub authorized_g: BigDecimal,
    pub received_g: BigDecimal,
    pub consumption_g: BigDecimal,
}

/// Every substance with an estimate or any import or consumption in `year` (up to `range.to`).
pub fn figures(
    conn: &mut PgConnection,
    country: &str,
    year: i32,
    range: DateRange,
    catalog: &Catalog,
) -> QueryResult<BTreeMap<SubstanceId, EstimateUse>> {
    use crate::db::schema::{estimates as e, import_authorizations as a};
    let mut out: BTreeMap<SubstanceId, EstimateUse> = BTreeMap::new();
    let estimates: Vec<(SubstanceId, BigDecimal)> =
        e::table.filter(e::country_code.eq(country)).filter(e::year.eq(year)).select((e::substance_id, e::quantity_g)).load(conn)?;
    for (s, g) in estimates {
        let entry = out.entry(s).or_default();
        entry.estimate_g = Some(entry.estimate_g.take().unwrap_or_default() + g);
    }
    let authorized: Vec<(SubstanceId, BigDecimal)> =
        a::table.filter(a::country_code.eq(country)).filter(a::year.eq(year)).select((a::substance_id, a::quantity_g)).load(conn)?;
    for (s, g) in authorized {
        out.entry(s).or_default().authorized_g += g;
    }
    let mut received_mg: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    let mut consumed_mg: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
    for row in flows::supply(conn, country, None, range, Source::Aggregates)? {
        let Some(s) = catalog.substance_of(row.product_id) else {
            continue;
        };
        if row.bucket == StockEventKind::ImportReceipt {
            *received_mg.entry(s).or_default() += catalog.mg(row.product_id, row.units);
        }
        if supplies_retail(&row) {
            *consumed_mg.entry(s).or_default() += catalog.mg(row.product_id, row.units);
        }
    }
    for (s, mg) in received_mg {
        out.entry(s).or_default().received_g = grams(&mg);
    }
    for (s, mg) in consumed_mg {
        out.entry(s).or_default().consumption_g = grams(&mg);
    }
    Ok(out)
}

/// One substance's line of the report: the figures as published (percentages to two
/// decimals, grams exact).
#[derive(Debug, Clone)]
pub struct EstimateUseLine {
    pub substance_id: SubstanceId,
    pub inn: String,
    /// Annual + supplementary estimates in force.
    pub estimate_g: Option<Decimal>,
    pub authorized_g: Decimal,
    /// Import receipts in the year.
    pub received_g: Decimal,
    /// Supply to the retail level in the year.
    pub consumption_g: Decimal,
    /// Consumption ÷ estimate, percent.
    pub utilization_pct: Option<Decimal>,
    /// Received imports ÷ estimate, percent.
    pub imports_pct: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct EstimateUseReport {
    pub country: String,
    pub year: i32,
    pub period: DateRange,
    pub substances: Vec<EstimateUseLine>,
}

pub fn report(conn: &mut PgConnection, country: &str, year: i32, range: DateRange) -> QueryResult<EstimateUseReport> {
    let catalog = Catalog::load(conn, range.to)?;
    let substances = figures(conn, country, year, range, &catalog)?
        .into_iter()
        .map(|(s, f)| EstimateUseLine {
            substance_id: s,
            inn: catalog.inn(s),
            utilization_pct: f.estimate_g.as_ref().and_then(|e| percent(&f.consumption_g, e)).map(Decimal::from),
            imports_pct: f.estimate_g.as_ref().and_then(|e| percent(&f.received_g, e)).map(Decimal::from),
            estimate_g: f.estimate_g.map(|g| Decimal(g.normalized())),
            authorized_g: Decimal(f.authorized_g.normalized()),
            received_g: Decimal(f.received_g),
            consumption_g: Decimal(f.consumption_g),
        })
        .collect();
    Ok(EstimateUseReport { country: country.to_owned(), year, period: range, substances })
}
