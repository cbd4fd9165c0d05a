//! The consumption report: supply to the retail level and dispensing per month and
//! substance, in grams of base.

use std::collections::BTreeMap;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::analytics::{Catalog, ReportPeriod, grams, supplies_retail};
use crate::db::reports::flows::{self, DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{RegionId, SubstanceId};
use crate::domain::period::Month;

#[derive(Debug, Clone)]
pub struct MonthlyConsumption {
    pub month: Month,
    pub substance_id: SubstanceId,
    pub inn: String,
    pub consumption_g: Decimal,
    pub dispensed_g: Decimal,
}

#[derive(Debug, Clone)]
pub struct ConsumptionReport {
    pub country: String,
    pub region_id: Option<RegionId>,
    /// The days counted.
    pub period: DateRange,
    /// The period asked for is not over: `period` ends today (the country's).
    pub partial: bool,
    /// By month, then substance.
    pub months: Vec<MonthlyConsumption>,
}

/// The report of `country` (or one region of it) over `period`, read from the aggregates.
pub fn report(conn: &mut PgConnection, country: &str, region_id: Option<RegionId>, period: ReportPeriod) -> QueryResult<ConsumptionReport> {
    let range = period.range;
    let catalog = Catalog::load(conn, range.to)?;
    let mut months: BTreeMap<(NaiveDate, SubstanceId), (BigDecimal, BigDecimal)> = BTreeMap::new();
    for row in flows::supply(conn, country, region_id, range, Source::Aggregates)?.iter().filter(|r| supplies_retail(r)) {
        if let Some(s) = catalog.substance_of(row.product_id) {
            months.entry((row.month, s)).or_default().0 += catalog.mg(row.product_id, row.units);
        }
    }
    for row in flows::dispensed(conn, country, region_id, range, Source::Aggregates, false)? {
        if let Some(s) = catalog.substance_of(row.product_id) {
            months.entry((row.month, s)).or_default().1 += catalog.mg(row.product_id, row.units);
        }
    }
    Ok(ConsumptionReport {
        country: country.to_owned(),
        region_id,
        period: range,
        partial: period.partial,
        months: months
            .into_iter()
            .map(|((month, s), (c, d))| MonthlyConsumption {
                month: Month::of(month),
                substance_id: s,
                inn: catalog.inn(s),
                consumption_g: grams(&c).into(),
                dispensed_g: grams(&d).into(),
            })
            .collect(),
    })
}
