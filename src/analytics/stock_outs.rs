//! Stock-outs and access points: facility-product pairs at zero (and for how long), pairs
//! about to run out at the recent dispensing rate, and licensed dispensing facilities per
//! 100 000 inhabitants per region.

use std::collections::HashMap;

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::enums::StockEventKind;
use crate::db::models::analytics_parameter::AnalyticsParameter;
use crate::db::models::country::Country;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::db::models::region::{Region, RegionPopulation};
use crate::db::models::stock_balance::StockBalance;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, ProductId, RegionId};
use crate::domain::period::{Month, local_day, today_in};

/// A retail facility-product pair at zero or running low.
#[derive(Debug, Clone)]
pub struct StockOut {
    pub facility_id: FacilityId,
    pub facility_name: String,
    pub region_id: RegionId,
    pub product_id: ProductId,
    pub balance_units: i64,
    /// Days since the balance reached zero.
    pub days_at_zero: Option<i64>,
    /// Units dispensed per day over the recent window (four decimals).
    pub daily_rate_units: Decimal,
    /// Days the balance lasts at that rate (one decimal, rounded down); `None` without
    /// recent dispensing.
    pub days_of_stock_left: Option<Decimal>,
}

/// Licensed dispensing facilities of a region.
#[derive(Debug, Clone)]
pub struct AccessPoint {
    pub region_id: RegionId,
    pub name: String,
    /// Licensed pharmacies and hospital pharmacies.
    pub dispensing_facilities: i64,
    pub population: Option<i64>,
    /// Per 100 000 inhabitants (four decimals).
    pub per_100k: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct StockOutReport {
    pub country: String,
    pub as_of: NaiveDate,
    /// The window behind the dispensing rates, in days.
    pub rate_window_days: i64,
    pub stock_outs: Vec<StockOut>,
    pub low_stock: Vec<StockOut>,
    pub access_points: Vec<AccessPoint>,
}

/// The stored parameter `code`, or `default`.
pub fn parameter(conn: &mut PgConnection, code: &str, default: i64) -> QueryResult<BigDecimal> {
    Ok(AnalyticsParameter::find(conn, code)?.map_or_else(|| BigDecimal::from(default), |p| p.value.0))
}

/// Units dispensed per facility and product since the first day of `since`'s month.
fn dispensed_since(conn: &mut PgConnection, facility_ids: &[FacilityId], since: NaiveDate) -> QueryResult<HashMap<(FacilityId, ProductId), i64>> {
    use crate::db::schema::facility_monthly as fm;
    let rows: Vec<(FacilityId, ProductId, i64)> = fm::table
        .filter(fm::facility_id.eq_any(facility_ids))
        .filter(fm::month.ge(Month::of(since).first_day()))
        .filter(fm::bucket.eq(StockEventKind::Dispense.as_str()))
        .select((fm::facility_id, fm::product_id, fm::units))
        .load(conn)?;
    let mut out: HashMap<(FacilityId, ProductId), i64> = HashMap::new();
    for (f, p, units) in rows {
        *out.entry((f, p)).or_default() -= units;
    }
    Ok(out)
}

pub struct StockOutRequest {
    pub country: String,
    pub region_id: Option<RegionId>,
    pub max_days_left: i64,
    /// The instant of the report; its day is the country's.
    pub now: DateTime<Utc>,
}

pub fn report(conn: &mut PgConnection, request: &StockOutRequest) -> QueryResult<StockOutReport> {
    let zone = Country::zone_of(conn, &request.country)?;
    let today = today_in(zone, request.now);
    let window = parameter(conn, "days_of_stock_window", 90)?.to_i64().unwrap_or(90).max(1);
    let window_start = Month::of(today - Duration::days(window)).first_day();
    let window_days = (today - window_start).num_days() + 1;
    let (facilities, _) = Facility::page(
        conn,
        &FacilityFilter { country_code: Some(request.country.clone()), region_id: request.region_id, ..Default::default() },
        0,
        i64::MAX,
    )?;
    let ids: Vec<FacilityId> = facilities.iter().map(|f| f.id).collect();
    let by_id: HashMap<FacilityId, &Facility> = facilities.iter().map(|f| (f.id, f)).collect();
    let dispensed = dispensed_since(conn, &ids, window_start)?;
    let balances: Vec<StockBalance> = {
        use crate::db::schema::stock_balances as b;
        b::table.filter(b::facility_id.eq_any(&ids)).order((b::facility_id, b::product_id)).select(StockBalance::as_select()).load(conn)?
    };
    let (mut stock_outs, mut low_stock) = (Vec::new(), Vec::new());
    for b in balances {
        let Some(f) = by_id.get(&b.facility_id) else {
            continue;
        };
        if !f.kind.is_retail() || b.last_occurred_at.is_none() {
            continue;
        }
        let units = dispensed.get(&(b.facility_id, b.product_id)).copied().unwrap_or(0);
        let rate = (BigDecimal::from(units) / BigDecimal::from(window_days)).with_scale_round(4, RoundingMode::HalfUp);
        let days_left = (units > 0).then(|| {
            (BigDecimal::from(b.balance_units) * BigDecimal::from(window_days) / BigDecimal::from(units)).with_scale_round(1, RoundingMode::Down)
        });
        let pair = StockOut {
            facility_id: f.id,
            facility_name: f.name.clone(),
            region_id: f.region_id,
            product_id: b.product_id,
            balance_units: b.balance_units,
            days_at_zero: b.zero_since.map(|z| (today - local_day(zone, z)).num_days().max(0)),
            daily_rate_units: Decimal(rate.normalized()),
            days_of_stock_left: days_left.clone().map(|d| Decimal(d.normalized())),
        };
        if b.balance_units == 0 {
            stock_outs.push(pair);
        } else if days_left.is_some_and(|d| d <= request.max_days_left) {
            low_stock.push(pair);
        }
    }
    let access_points = access_points(conn, &request.country, request.region_id, &facilities, today)?;
    Ok(StockOutReport { country: request.country.clone(), as_of: today, rate_window_days: window_days, stock_outs, low_stock, access_points })
}

/// Licensed dispensing facilities per region and per 100 000 inhabitants (latest population
/// figure up to `today`'s year).
pub fn access_points(
    conn: &mut PgConnection,
    country: &str,
    region_id: Option<RegionId>,
    facilities: &[Facility],
    today: NaiveDate,
) -> QueryResult<Vec<AccessPoint>> {
    use chrono::Datelike;
    let mut regions = Region::of_country(conn, country)?;
    if let Some(r) = region_id {
        regions.retain(|x| x.id == r);
    }
    let ids: Vec<RegionId> = regions.iter().map(|r| r.id).collect();
    let populations = RegionPopulation::for_regions(conn, &ids)?;
    Ok(regions
        .into_iter()
        .map(|r| {
            let count = facilities.iter().filter(|f| f.region_id == r.id && f.kind.is_retail() && f.licensed_on(today)).count() as i64;
            let population = populations.iter().filter(|p| p.region_id == r.id && p.year <= today.year()).max_by_key(|p| p.year).map(|p| p.total);
            AccessPoint {
                region_id: r.id,
                name: r.name,
                dispensing_facilities: count,
                population,
                per_100k: population.filter(|p| *p > 0).map(|p| {
                    Decimal(
                        (BigDecimal::from(count) * BigDecimal::from(100_000) / BigDecimal::from(p))
                            .with_scale_round(4, RoundingMode::HalfUp)
                            .normalized(),
                    )
                }),
            }
        })
        .collect())
}
