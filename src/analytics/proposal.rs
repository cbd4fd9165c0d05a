//! Next year's estimate for a substance by the two methods of the INCB–WHO Guide on
//! Estimating Requirements for Substances under International Control (2012) that the data
//! support, showing every input:
//! - consumption-based: the recent years' consumption and its trend, plus the reserve stock
//!   to hold, less the stock already held;
//! - need-based: population × a reference consumption in morphine equivalents, split to the
//!   substance by its share of recent consumption.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode, Zero};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::analytics::{AnalyticsError, AnalyticsResult};
use crate::analytics::{Catalog, grams, supplies_retail};
use crate::db::models::country::Country;
use crate::db::models::region::{Region, RegionPopulation};
use crate::db::models::substance::Substance;
use crate::db::reports::flows::{self, DateRange, Source};
use crate::domain::decimal::Decimal;

/// How the consumption-based proposal is computed.
pub const CONSUMPTION_BASED_METHOD: &str = "consumption-based (INCB-WHO Guide 2012): projected consumption + reserve stock − stock held now";

/// How the need-based proposal is computed.
pub const NEED_BASED_METHOD: &str =
    "need-based (INCB-WHO Guide 2012): population × reference consumption (mg ME per capita) × the substance's share ÷ its ME factor";

#[derive(Debug, Clone)]
pub struct YearConsumption {
    pub year: i32,
    pub consumption_g: Decimal,
}

/// The consumption-based proposal and its inputs (grams to three decimals). The method is
/// [`CONSUMPTION_BASED_METHOD`].
#[derive(Debug, Clone)]
pub struct ConsumptionBasedProposal {
    pub history: Vec<YearConsumption>,
    /// Mean annual change over the history (g per year; least squares).
    pub trend_g_per_year: Option<Decimal>,
    pub projected_consumption_g: Option<Decimal>,
    pub reserve_months: Decimal,
    pub reserve_stock_g: Option<Decimal>,
    /// Stock held now at every level.
    pub current_stock_g: Decimal,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<String>,
}

/// Where the reference consumption of the need-based method comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceSource {
    /// Given in the request.
    Request,
    /// The stored analytics parameter, with its source.
    Stored(String),
}

/// The need-based proposal and its inputs. The method is [`NEED_BASED_METHOD`].
#[derive(Debug, Clone)]
pub struct NeedBasedProposal {
    pub population: Option<Decimal>,
    pub reference_me_mg_per_capita: Decimal,
    pub reference_source: ReferenceSource,
    /// Share of this substance in the country's recent morphine-equivalent consumption.
    pub substance_share_of_me: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub need_me_mg: Option<Decimal>,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct EstimateProposal {
    pub country: String,
    pub substance_id: i64,
    pub inn: String,
    pub year: i32,
    pub current_estimate_g: Option<Decimal>,
    pub consumption_based: ConsumptionBasedProposal,
    pub need_based: NeedBasedProposal,
}

fn round3(v: &BigDecimal) -> Decimal {
    Decimal(v.with_scale_round(3, RoundingMode::HalfUp).normalized())
}

/// Least-squares slope of (x, y) points.
pub fn slope(points: &[(i32, BigDecimal)]) -> Option<BigDecimal> {
    if points.len() < 2 {
        return None;
    }
    let n = BigDecimal::from(points.len() as i64);
    let mean_x = points.iter().map(|(x, _)| BigDecimal::from(*x)).sum::<BigDecimal>() / &n;
    let mean_y = points.iter().map(|(_, y)| y.clone()).sum::<BigDecimal>() / &n;
    let (mut num, mut den) = (BigDecimal::zero(), BigDecimal::zero());
    for (x, y) in points {
        let dx = BigDecimal::from(*x) - &mean_x;
        num += &dx * (y - &mean_y);
        den += &dx * &dx;
    }
    (!den.is_zero()).then(|| num / den)
}

pub struct ProposalRequest {
    pub country: String,
    pub substance_id: i64,
    pub year: i32,
    pub reference_me_mg_per_capita: Option<BigDecimal>,
    pub reserve_months: Option<BigDecimal>,
    pub today: NaiveDate,
}

fn parameter(conn: &mut PgConnection, code: &str) -> QueryResult<(BigDecimal, String)> {
    use crate::db::schema::analytics_parameters as p;
    p::table.find(code).select((p::value, p::source)).first(conn)
}

/// The population for `year`: every region's figure when all have one, else the latest
/// regional year available, else the country's own figure.
fn population(conn: &mut PgConnection, country: &Country, year: i32) -> QueryResult<BigDecimal> {
    let regions = Region::of_country(conn, &country.code)?;
    let ids: Vec<i64> = regions.iter().map(|r| r.id).collect();
    let figures = RegionPopulation::for_regions(conn, &ids)?;
    let years: Vec<i32> = figures.iter().map(|f| f.year).filter(|y| *y <= year).collect();
    for y in years.iter().rev() {
        let of_year: Vec<&RegionPopulation> = figures.iter().filter(|f| f.year == *y).collect();
        if !regions.is_empty() && of_year.len() == regions.len() {
            return Ok(of_year.iter().map(|f| BigDecimal::from(f.total)).sum());
        }
    }
    Ok(BigDecimal::from(country.population))
}

/// The proposal for `request`'s country, substance and year.
pub fn propose(conn: &mut PgConnection, request: &ProposalRequest) -> AnalyticsResult<EstimateProposal> {
    let country = Country::find(conn, &request.country)?.ok_or_else(|| AnalyticsError::UnknownCountry(request.country.clone()))?;
    if Substance::find(conn, request.substance_id)?.is_none() {
        return Err(AnalyticsError::UnknownSubstance(request.substance_id));
    }
    Ok(estimate_proposal(conn, &country, request)?)
}

fn estimate_proposal(conn: &mut PgConnection, country: &Country, request: &ProposalRequest) -> QueryResult<EstimateProposal> {
    let catalog = Catalog::load(conn, request.today)?;
    let s = request.substance_id;
    // Completed years before the estimate year, the three most recent.
    let history_years: Vec<i32> =
        ((request.year - 4)..request.year).filter(|y| *y < request.today.year()).rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
    let zone = country.zone()?;
    let mut history = Vec::new();
    let mut me_by_substance: BTreeMap<i64, BigDecimal> = BTreeMap::new();
    for y in &history_years {
        let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(*y, 1, 1), NaiveDate::from_ymd_opt(*y, 12, 31)) else {
            continue;
        };
        let mut mg = BigDecimal::zero();
        for row in flows::supply(conn, &country.code, None, DateRange { from, to, zone }, Source::Aggregates)?.iter().filter(|r| supplies_retail(r)) {
            let Some(sub) = catalog.substance_of(row.product_id) else {
                continue;
            };
            let row_mg = catalog.mg(row.product_id, row.units);
            if let Some(f) = catalog.me_factor(sub) {
                *me_by_substance.entry(sub).or_default() += &row_mg * f;
            }
            if sub == s {
                mg += row_mg;
            }
        }
        history.push((*y, grams(&mg)));
    }
    let trend = slope(&history);
    let projected = history.last().map(|(last_year, last)| {
        let p = match &trend {
            Some(t) => last + t * BigDecimal::from(request.year - last_year),
            None => last.clone(),
        };
        p.max(BigDecimal::zero())
    });
    let (stored_reserve, _) = parameter(conn, "reserve_stock_months")?;
    let reserve_months = request.reserve_months.clone().unwrap_or(stored_reserve);
    let reserve = projected.as_ref().map(|p| p * &reserve_months / BigDecimal::from(12));
    let current_stock_mg: BigDecimal = {
        use crate::db::schema::stock_balances as b;
        let balances: Vec<(i64, i64)> = b::table.filter(b::country_code.eq(&country.code)).select((b::product_id, b::balance_units)).load(conn)?;
        balances.into_iter().filter(|(p, _)| catalog.substance_of(*p) == Some(s)).map(|(p, u)| catalog.mg(p, u)).sum()
    };
    let current_stock = grams(&current_stock_mg);
    let proposed = match (&projected, &reserve) {
        (Some(p), Some(r)) => Some((p + r - &current_stock).max(BigDecimal::zero())),
        _ => None,
    };
    let mut notes = vec![format!("history: completed years {:?}", history_years)];
    if history.is_empty() {
        notes.push("no completed year of consumption: the consumption-based method needs at least one".into());
    }
    let consumption_based = ConsumptionBasedProposal {
        history: history.iter().map(|(y, g)| YearConsumption { year: *y, consumption_g: round3(g) }).collect(),
        trend_g_per_year: trend.as_ref().map(round3),
        projected_consumption_g: projected.as_ref().map(round3),
        reserve_months: Decimal(reserve_months.normalized()),
        reserve_stock_g: reserve.as_ref().map(round3),
        current_stock_g: round3(&current_stock),
        proposed_estimate_g: proposed.as_ref().map(round3),
        notes,
    };

    let (stored_reference, reference_source) = parameter(conn, "need_reference_me_mg_per_capita")?;
    let reference = request.reference_me_mg_per_capita.clone().unwrap_or(stored_reference);
    let people = population(conn, country, request.year)?;
    let total_me: BigDecimal = me_by_substance.values().sum();
    let me_factor = catalog.me_factor(s);
    let share = (!total_me.is_zero()).then(|| me_by_substance.get(&s).cloned().unwrap_or_default() / &total_me);
    let need_me = share.as_ref().map(|sh| &people * &reference * sh);
    let need_g = match (&need_me, &me_factor) {
        (Some(n), Some(f)) if !f.is_zero() => Some(grams(&(n / f))),
        _ => None,
    };
    let mut need_notes = Vec::new();
    if share.is_none() {
        need_notes.push("no recent consumption in morphine equivalents to split the need between substances".into());
    }
    if me_factor.is_none() {
        need_notes.push(format!("{} has no morphine-equivalence factor configured", catalog.inn(s)));
    }
    let need_based = NeedBasedProposal {
        population: Some(Decimal(people.normalized())),
        reference_me_mg_per_capita: Decimal(reference.normalized()),
        reference_source: if request.reference_me_mg_per_capita.is_some() {
            ReferenceSource::Request
        } else {
            ReferenceSource::Stored(reference_source)
        },
        substance_share_of_me: share.as_ref().map(|v| Decimal(v.with_scale_round(6, RoundingMode::HalfUp).normalized())),
        me_factor: me_factor.map(Decimal::from),
        need_me_mg: need_me.as_ref().map(round3),
        proposed_estimate_g: need_g.as_ref().map(round3),
        notes: need_notes,
    };
    let current_estimate: Option<BigDecimal> = {
        use crate::db::schema::estimates as e;
        e::table
            .filter(e::country_code.eq(&country.code))
            .filter(e::substance_id.eq(s))
            .filter(e::year.eq(request.year))
            .select(diesel::dsl::sum(e::quantity_g))
            .first(conn)?
    };
    Ok(EstimateProposal {
        country: country.code.clone(),
        substance_id: s,
        inn: catalog.inn(s),
        year: request.year,
        current_estimate_g: current_estimate.map(|g| Decimal(g.normalized())),
        consumption_based,
        need_based,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_straight_line() {
        let points = vec![(2023, BigDecimal::from(100)), (2024, BigDecimal::from(120)), (2025, BigDecimal::from(140))];
        assert_eq!(slope(&points), Some(BigDecimal::from(20)));
        assert_eq!(slope(&points[..1]), None);
    }
}
