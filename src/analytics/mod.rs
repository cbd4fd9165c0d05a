//! Availability analytics and INCB reports: each report reads the maintained aggregates
//! (through `db::reports`), converts units to exact base mass with the product catalogue and
//! applies the formulas of `domain::availability`.
//!
//! Reports return domain results (plain types beside each report, figures already rounded
//! as published) and fail with `AnalyticsError`; `views::analytics` maps the results to wire
//! types, and `AppError` maps the errors to problems.

pub mod availability;
pub mod consumption;
pub mod error;
pub mod estimates;
pub mod incb;
pub mod mass_balance;
pub mod proposal;
pub mod regional;
pub mod stock_outs;

pub use error::{AnalyticsError, AnalyticsResult};

use std::collections::HashMap;

use bigdecimal::{BigDecimal, Zero};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::analytics::error::MAX_REPORT_DAYS;
use crate::db::enums::{FacilityKind, StockEventKind};
use crate::db::models::country::Country;
use crate::db::models::product::Product;
use crate::db::models::substance::{ReferenceValues, Substance};
use crate::db::reports::flows::{DateRange, SupplyRow};
use crate::domain::ids::{ProductId, SubstanceId};
use crate::domain::period::{Tz, today_in};

/// Products, substances and the reference values in force on one date.
pub struct Catalog {
    pub products: HashMap<ProductId, Product>,
    pub substances: Vec<Substance>,
    pub values: HashMap<SubstanceId, ReferenceValues>,
    pub as_of: NaiveDate,
}

impl Catalog {
    pub fn load(conn: &mut PgConnection, as_of: NaiveDate) -> QueryResult<Catalog> {
        use crate::db::schema::products;
        let products = products::table.select(Product::as_select()).load(conn)?.into_iter().map(|p| (p.id, p)).collect();
        let substances = Substance::all(conn)?;
        let values = ReferenceValues::in_force(conn, as_of)?.into_iter().map(|v| (v.substance_id, v)).collect();
        Ok(Catalog { products, substances, values, as_of })
    }

    /// The substance of a product.
    pub fn substance_of(&self, product_id: ProductId) -> Option<SubstanceId> {
        self.products.get(&product_id).map(|p| p.substance_id)
    }

    /// Exact base mg of `units` of a product (zero for an unknown product).
    pub fn mg(&self, product_id: ProductId, units: i64) -> BigDecimal {
        self.products.get(&product_id).map_or_else(BigDecimal::zero, |p| &p.base_mg_per_unit * BigDecimal::from(units))
    }

    pub fn inn(&self, substance_id: SubstanceId) -> String {
        self.substances.iter().find(|s| s.id == substance_id).map_or_else(|| substance_id.to_string(), |s| s.inn.clone())
    }

    /// Whether the substance is in the INCB opioid-analgesic basket (counted in S-DDD totals).
    pub fn in_basket(&self, substance_id: SubstanceId) -> bool {
        self.substances.iter().any(|s| s.id == substance_id && s.in_sddd_basket)
    }

    pub fn sddd(&self, substance_id: SubstanceId) -> Option<BigDecimal> {
        self.values.get(&substance_id).and_then(|v| v.sddd_mg.clone())
    }

    pub fn me_factor(&self, substance_id: SubstanceId) -> Option<BigDecimal> {
        self.values.get(&substance_id).and_then(|v| v.me_factor.clone())
    }
}

/// Buckets that bring stock to (or take it from) the retail level from the supply chain:
/// the INCB's "consumption" is what reaches pharmacies and hospitals.
pub fn supplies_retail(row: &SupplyRow) -> bool {
    row.facility_kind.is_retail()
        && matches!(row.bucket, StockEventKind::ImportReceipt | StockEventKind::Receipt | StockEventKind::TransferIn | StockEventKind::TransferOut)
}

/// Whether a row belongs to the wholesale level (importers and wholesalers).
pub fn is_wholesale(kind: FacilityKind) -> bool {
    !kind.is_retail()
}

/// Grams from milligrams, exact.
pub fn grams(mg: &BigDecimal) -> BigDecimal {
    (mg / BigDecimal::from(1000)).normalized()
}

/// A report's period: the days counted and whether the period is still in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The days counted: the period asked for, cut at today when it is not over.
    pub range: DateRange,
    /// The period is not over on the country's today: figures cover `range` only.
    pub partial: bool,
}

/// The dates of a report: a `year`, or `from` and `to`, in `zone` (the country's days); never
/// past `today` (a report on the current year covers the days so far and is `partial`).
pub fn report_period(year: Option<i32>, from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate, zone: Tz) -> AnalyticsResult<ReportPeriod> {
    let (from, to) = match (year, from, to) {
        (Some(y), None, None) => (
            NaiveDate::from_ymd_opt(y, 1, 1).ok_or(AnalyticsError::InvalidYear { year: y })?,
            NaiveDate::from_ymd_opt(y, 12, 31).ok_or(AnalyticsError::InvalidYear { year: y })?,
        ),
        (None, Some(f), Some(t)) => (f, t),
        (Some(_), _, _) => return Err(AnalyticsError::YearAndDates),
        (None, None, _) => return Err(AnalyticsError::NoPeriod),
        (None, Some(from), None) => return Err(AnalyticsError::NoEnd { from }),
    };
    let requested = DateRange { from, to, zone };
    let counted = DateRange { to: to.min(today), ..requested };
    if counted.to < from {
        return Err(AnalyticsError::EndsBeforeStart { from, to: counted.to });
    }
    if (counted.to - from).num_days() > MAX_REPORT_DAYS {
        return Err(AnalyticsError::PeriodTooLong { from, to: counted.to });
    }
    Ok(ReportPeriod { range: counted, partial: !requested.is_over(today) })
}

/// [`report_period`]'s days.
pub fn report_range(year: Option<i32>, from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate, zone: Tz) -> AnalyticsResult<DateRange> {
    report_period(year, from, to, today, zone).map(|p| p.range)
}

/// The period of a report on `country` at the instant `now`, on the country's own calendar.
pub fn country_period(
    conn: &mut PgConnection,
    country: &str,
    year: Option<i32>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> AnalyticsResult<ReportPeriod> {
    let zone = Country::zone_of(conn, country)?;
    report_period(year, from, to, today_in(zone, now), zone)
}
