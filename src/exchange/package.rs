//! The aggregate package a national instance sends the hub for one month: its versioned
//! wire schema (the same types on both sides; unknown members are refused, so a facility,
//! prescriber or patient identifier cannot ride along) and its building from the national
//! analytics, with small-cell suppression (`domain::suppression`) and the sharing policy.
//!
//! Nothing below region level is read into a package: region figures come from the
//! availability report, counts of facilities and patients only as suppressed-or-not counts.

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::analytics::availability::{self, AreaMetrics, AvailabilityRequest};
use crate::analytics::{self, AnalyticsError, AnalyticsResult};
use crate::db::enums::{ExchangeSection, FlagStatus, RuleMode, Severity};
use crate::db::models::country::Country;
use crate::db::models::facility::{Facility, FacilityFilter};
use crate::db::models::region::Region;
use crate::db::models::reporting_period::ReportingPeriod;
use crate::db::reports::flows::{DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, RegionId};
use crate::domain::period::{Month, local_day, local_midnight};
use crate::domain::suppression;

/// The version of the package schema this build writes and reads. Version 2 added
/// `incomplete`, `band_provisional` and `missing_substances` to every area's figures (a
/// version 1 package could not say that an S-DDD total left a basket substance out).
pub const SCHEMA_VERSION: i32 = 2;

/// A count of people or facilities: `value` is `null` with `suppressed: true` for a small
/// cell (1 to 4) and for the cells suppressed with it so that none can be derived from a total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub value: Option<i64>,
    pub suppressed: bool,
}

impl Count {
    fn shown(value: i64) -> Count {
        Count { value: Some(value), suppressed: false }
    }

    fn of(value: i64, suppressed: bool) -> Count {
        if suppressed { Count { value: None, suppressed: true } } else { Count::shown(value) }
    }
}

/// One table of counts (a column over the regions, or over flag kinds) and its total,
/// suppressed together.
fn protect(cells: &[i64], total: i64) -> (Vec<Count>, Count) {
    let s = suppression::protect(cells, total);
    (cells.iter().zip(&s.cells).map(|(v, x)| Count::of(*v, *x)).collect(), Count::of(total, s.total))
}

/// The figures of an area over the month: exact base mg and rates as the national
/// availability report publishes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaFigures {
    /// Base mg supplied to the retail level (INCB consumption).
    pub consumption_mg_base: Option<Decimal>,
    /// Base mg dispensed to patients.
    pub dispensed_mg_base: Option<Decimal>,
    /// S-DDD per million inhabitants per day, of consumption.
    pub sddd_per_million_per_day: Option<Decimal>,
    /// Morphine-equivalent mg per capita, of consumption.
    pub me_mg_per_capita: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    /// Adequacy band of `sddd_per_million_per_day`.
    pub band: Option<String>,
    /// The band is provisional: the S-DDD total is `incomplete` (version 2; `false` when
    /// reading a version 1 package kept on the hub).
    #[serde(default)]
    pub band_provisional: bool,
    /// A basket substance consumed in the month has no S-DDD configured: the S-DDD total
    /// leaves it out, so it is a lower bound, never the figure (version 2).
    #[serde(default)]
    pub incomplete: bool,
    /// The basket substances left out of the S-DDD total, with their consumption (version 2).
    #[serde(default)]
    pub missing_substances: Vec<MissingBasketSubstance>,
}

/// A basket substance consumed without an S-DDD, left out of the S-DDD total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingBasketSubstance {
    pub inn: String,
    pub consumption_mg_base: Decimal,
}

impl From<&AreaMetrics> for AreaFigures {
    fn from(m: &AreaMetrics) -> Self {
        AreaFigures {
            consumption_mg_base: m.consumption_mg_base.clone(),
            dispensed_mg_base: m.dispensed_mg_base.clone(),
            sddd_per_million_per_day: m.sddd_per_million_per_day.clone(),
            me_mg_per_capita: m.me_mg_per_capita.clone(),
            dispensed_sddd_per_million_per_day: m.dispensed_sddd_per_million_per_day.clone(),
            dispensed_me_mg_per_capita: m.dispensed_me_mg_per_capita.clone(),
            band: m.band.as_ref().map(|b| b.code.clone()),
            band_provisional: m.band.is_some() && m.incomplete,
            incomplete: m.incomplete,
            missing_substances: m
                .missing_substances
                .iter()
                .map(|(inn, mg)| MissingBasketSubstance { inn: inn.clone(), consumption_mg_base: mg.clone() })
                .collect(),
        }
    }
}

/// One substance's figures in an area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstanceFigures {
    pub inn: String,
    pub consumption_mg_base: Decimal,
    pub dispensed_mg_base: Decimal,
    pub sddd_per_million_per_day: Option<Decimal>,
    pub me_mg_per_capita: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
}

fn substances(report: &availability::AvailabilityReport) -> Vec<SubstanceFigures> {
    report
        .substances
        .iter()
        .map(|s| SubstanceFigures {
            inn: s.inn.clone(),
            consumption_mg_base: s.consumption_mg_base.clone(),
            dispensed_mg_base: s.dispensed_mg_base.clone(),
            sddd_per_million_per_day: s.sddd_per_million_per_day.clone(),
            me_mg_per_capita: s.me_mg_per_capita.clone(),
            dispensed_sddd_per_million_per_day: s.dispensed_sddd_per_million_per_day.clone(),
            dispensed_me_mg_per_capita: s.dispensed_me_mg_per_capita.clone(),
        })
        .collect()
}

/// A region's availability: its figures, per substance, and the patients dispensed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionAvailability {
    /// The region's name (and code, if it has one) — regions are the finest level sent.
    pub name: String,
    pub code: Option<String>,
    /// Average population over the month.
    pub population: Option<Decimal>,
    pub figures: AreaFigures,
    pub substances: Vec<SubstanceFigures>,
    /// Distinct patients dispensed to in the region.
    pub patients: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySection {
    pub population: Option<Decimal>,
    pub total: AreaFigures,
    pub substances: Vec<SubstanceFigures>,
    pub regions: Vec<RegionAvailability>,
    /// Distinct patients dispensed to in the country.
    pub patients: Count,
}

/// Reporting completeness of a region (or the country): dispensing facilities expected to
/// close the month and those that closed it on time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completeness {
    pub name: String,
    pub code: Option<String>,
    pub facilities: Count,
    pub closed_on_time: Count,
    /// `closed_on_time` ÷ `facilities` in percent (two decimals); `null` when either count
    /// is suppressed or there is no facility.
    pub completeness_pct: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportingSection {
    pub grace_days: i64,
    pub total: Completeness,
    pub regions: Vec<Completeness>,
}

/// Access points and stock-outs of a region (or the country) at the month's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub name: String,
    pub code: Option<String>,
    /// Licensed pharmacies and hospital pharmacies.
    pub dispensing_facilities: Count,
    /// Per 100 000 inhabitants; `null` when the count is suppressed.
    pub per_100k: Option<Decimal>,
    /// Dispensing facilities with at least one product at zero stock.
    pub facilities_with_stock_out: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessSection {
    pub as_of: NaiveDate,
    pub total: Access,
    pub regions: Vec<Access>,
}

/// A substance's estimate and its use in the year up to the month's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateUse {
    pub inn: String,
    pub estimate_g: Option<Decimal>,
    pub consumption_g: Decimal,
    pub utilization_pct: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimatesSection {
    pub year: i32,
    pub substances: Vec<EstimateUse>,
}

/// Flags of one rule, severity and state whose period touches the month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagCount {
    pub rule: String,
    pub severity: Severity,
    pub status: FlagStatus,
    pub count: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsSection {
    pub counts: Vec<FlagCount>,
    pub total: Count,
}

/// The month's package (schema version 2). Sections the country does not share are absent
/// and listed in `withheld`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The version of this schema: 2.
    #[schema(minimum = 2, maximum = 2)]
    pub schema_version: i32,
    /// ISO code of the sending country.
    pub country: String,
    /// `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub month: String,
    /// Increases with every package the country sends; a package with a sequence not above
    /// the last accepted one is refused (the same package again is a replay).
    pub sequence: i64,
    pub generated_at: DateTime<Utc>,
    pub shared: Vec<ExchangeSection>,
    pub withheld: Vec<ExchangeSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<AvailabilitySection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<ReportingSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimates: Option<EstimatesSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<FlagsSection>,
}

impl Package {
    /// The month, if `month` is a valid `YYYY-MM`.
    pub fn month(&self) -> Option<Month> {
        Month::parse(&self.month)
    }
}

/// `YYYY-MM` of a month.
pub fn month_text(month: Month) -> String {
    month.first_day().format("%Y-%m").to_string()
}

/// What to build a package from.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub country: String,
    pub month: Month,
    pub sequence: i64,
    pub generated_at: DateTime<Utc>,
    /// Sections the country shares; the others are withheld.
    pub shared: Vec<ExchangeSection>,
    pub today: NaiveDate,
    pub grace_days: i64,
}

/// Builds the package of `request.country` for `request.month` (a month that has ended).
pub fn build(conn: &mut PgConnection, request: &BuildRequest) -> AnalyticsResult<Package> {
    // The month is the country's: cut at its local midnights.
    let zone = Country::zone_of(conn, &request.country)?;
    let range = request.month.range(zone);
    let shares = |s: ExchangeSection| request.shared.contains(&s);
    let regions = Region::of_country(conn, &request.country)?;
    let availability = if shares(ExchangeSection::Availability) { Some(availability_section(conn, request, range, &regions)?) } else { None };
    let reporting = if shares(ExchangeSection::Reporting) { Some(reporting_section(conn, request, &regions)?) } else { None };
    let access = if shares(ExchangeSection::Access) { Some(access_section(conn, request, range, &regions)?) } else { None };
    let estimates = if shares(ExchangeSection::Estimates) { Some(estimates_section(conn, request, range)?) } else { None };
    let flags = if shares(ExchangeSection::Flags) { Some(flags_section(conn, request, range)?) } else { None };
    let shared: Vec<ExchangeSection> = ExchangeSection::ALL.iter().copied().filter(|s| shares(*s)).collect();
    let withheld: Vec<ExchangeSection> = ExchangeSection::ALL.iter().copied().filter(|s| !shares(*s)).collect();
    Ok(Package {
        schema_version: SCHEMA_VERSION,
        country: request.country.clone(),
        month: month_text(request.month),
        sequence: request.sequence,
        generated_at: request.generated_at,
        shared,
        withheld,
        availability,
        reporting,
        access,
        estimates,
        flags,
    })
}

/// Distinct patients dispensed to in the month, per region and in the whole country: of
/// the dispensings that count (`counted_dispensings`: a reversed dispensing names nobody),
/// as every analytics figure reads them.
fn patients(conn: &mut PgConnection, country: &str, month: Month) -> QueryResult<(BTreeMap<RegionId, i64>, i64)> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;

    use crate::db::views_schema::counted_dispensings as d;
    let zone = Country::zone_of(conn, country)?;
    let (from, to) = month.bounds(zone);
    let in_month = d::table.filter(d::country_code.eq(country)).filter(d::dispensed_at.ge(from)).filter(d::dispensed_at.lt(to));
    let per_region: Vec<(RegionId, i64)> =
        in_month.group_by(d::region_id).select((d::region_id, sql::<BigInt>("count(DISTINCT patient_pseudonym)"))).load(conn)?;
    let total: i64 = in_month.select(sql::<BigInt>("count(DISTINCT patient_pseudonym)")).first(conn)?;
    Ok((per_region.into_iter().collect(), total))
}

fn availability_section(
    conn: &mut PgConnection,
    request: &BuildRequest,
    range: DateRange,
    regions: &[Region],
) -> AnalyticsResult<AvailabilitySection> {
    let country_request = AvailabilityRequest { country: request.country.clone(), region_id: None, range, partial: false, group_by: None };
    let report = availability::report(conn, &country_request, Source::Aggregates)?;
    let (per_region, total) = patients(conn, &request.country, request.month)?;
    let cells: Vec<i64> = regions.iter().map(|r| per_region.get(&r.id).copied().unwrap_or(0)).collect();
    let (patient_counts, patients_total) = protect(&cells, total);
    let mut out = Vec::new();
    for (region, patients) in regions.iter().zip(patient_counts) {
        let region_request =
            AvailabilityRequest { country: request.country.clone(), region_id: Some(region.id), range, partial: false, group_by: None };
        let region_report = availability::report(conn, &region_request, Source::Aggregates)?;
        // The country report's line of the region: the same figures the ministry reads.
        let line = report
            .regions
            .iter()
            .find(|r| r.region_id == region.id)
            .ok_or(AnalyticsError::RegionNotInCountry { country: request.country.clone(), region_id: region.id })?;
        out.push(RegionAvailability {
            name: region.name.clone(),
            code: region.code.clone(),
            population: line.population.clone(),
            figures: AreaFigures::from(&line.metrics),
            substances: substances(&region_report),
            patients,
        });
    }
    Ok(AvailabilitySection {
        population: report.population.clone(),
        total: AreaFigures::from(&report.total),
        substances: substances(&report),
        regions: out,
        patients: patients_total,
    })
}

fn percent(part: Option<i64>, whole: Option<i64>) -> Option<Decimal> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 => {
            Some(Decimal((BigDecimal::from(p) * BigDecimal::from(100) / BigDecimal::from(w)).with_scale_round(2, RoundingMode::HalfUp).normalized()))
        }
        _ => None,
    }
}

fn reporting_section(conn: &mut PgConnection, request: &BuildRequest, regions: &[Region]) -> AnalyticsResult<ReportingSection> {
    // The dispensing facilities licensed at the month's start report for it.
    let filter = FacilityFilter { country_code: Some(request.country.clone()), ..Default::default() };
    let (facilities, _) = Facility::page(conn, &filter, 0, i64::MAX)?;
    let expected: Vec<&Facility> = facilities.iter().filter(|f| f.kind.is_retail() && f.licensed_on(request.month.first_day())).collect();
    let closed = ReportingPeriod::of_country(conn, &request.country, request.month.first_day())?;
    let due = request.month.due_by(request.grace_days);
    // On time: closed by the end of the due day at the country's local midnight, not UTC's.
    let zone = Country::zone_of(conn, &request.country)?;
    let on_time = |facility_id: FacilityId| closed.iter().any(|c| c.facility_id == facility_id && local_day(zone, c.closed_at) <= due);
    let in_region =
        |region_id: RegionId, timely: bool| expected.iter().filter(|f| f.region_id == region_id && (!timely || on_time(f.id))).count() as i64;
    let expected_cells: Vec<i64> = regions.iter().map(|r| in_region(r.id, false)).collect();
    let timely_cells: Vec<i64> = regions.iter().map(|r| in_region(r.id, true)).collect();
    let (expected_counts, expected_total) = protect(&expected_cells, expected.len() as i64);
    let (timely_counts, timely_total) = protect(&timely_cells, expected.iter().filter(|f| on_time(f.id)).count() as i64);
    let line = |name: String, code: Option<String>, facilities: Count, closed_on_time: Count| Completeness {
        completeness_pct: percent(closed_on_time.value, facilities.value),
        name,
        code,
        facilities,
        closed_on_time,
    };
    let lines =
        regions.iter().zip(expected_counts.into_iter().zip(timely_counts)).map(|(r, (f, c))| line(r.name.clone(), r.code.clone(), f, c)).collect();
    Ok(ReportingSection { grace_days: request.grace_days, total: line(request.country.clone(), None, expected_total, timely_total), regions: lines })
}

fn access_section(conn: &mut PgConnection, request: &BuildRequest, range: DateRange, regions: &[Region]) -> AnalyticsResult<AccessSection> {
    let as_of = range.to.min(request.today);
    // The stock is read at the end of the month's last day (or now, for a month not over).
    let as_of_instant = if as_of < request.today { local_midnight(range.zone, as_of.succ_opt().unwrap_or(as_of)) } else { Utc::now() };
    let report = analytics::stock_outs::report(
        conn,
        &analytics::stock_outs::StockOutRequest { country: request.country.clone(), region_id: None, max_days_left: 0, now: as_of_instant },
    )?;
    let points: Vec<i64> =
        regions.iter().map(|r| report.access_points.iter().find(|a| a.region_id == r.id).map_or(0, |a| a.dispensing_facilities)).collect();
    let mut out_by_region: BTreeMap<RegionId, std::collections::BTreeSet<FacilityId>> = BTreeMap::new();
    for s in &report.stock_outs {
        out_by_region.entry(s.region_id).or_default().insert(s.facility_id);
    }
    let outs: Vec<i64> = regions.iter().map(|r| out_by_region.get(&r.id).map_or(0, |f| f.len() as i64)).collect();
    let (point_counts, points_total) = protect(&points, points.iter().sum());
    let (out_counts, outs_total) = protect(&outs, outs.iter().sum());
    let lines = regions
        .iter()
        .zip(point_counts.into_iter().zip(out_counts))
        .map(|(r, (p, o))| Access {
            per_100k: if p.suppressed { None } else { report.access_points.iter().find(|a| a.region_id == r.id).and_then(|a| a.per_100k.clone()) },
            name: r.name.clone(),
            code: r.code.clone(),
            dispensing_facilities: p,
            facilities_with_stock_out: o,
        })
        .collect();
    let total = Access {
        name: request.country.clone(),
        code: None,
        dispensing_facilities: points_total,
        per_100k: None,
        facilities_with_stock_out: outs_total,
    };
    Ok(AccessSection { as_of, total, regions: lines })
}

fn estimates_section(conn: &mut PgConnection, request: &BuildRequest, range: DateRange) -> AnalyticsResult<EstimatesSection> {
    use chrono::Datelike;
    let year = range.from.year();
    let year_range = DateRange { from: NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(range.from), to: range.to, zone: range.zone };
    let report = analytics::estimates::report(conn, &request.country, year, year_range)?;
    let substances = report
        .substances
        .iter()
        .map(|s| EstimateUse {
            inn: s.inn.clone(),
            estimate_g: s.estimate_g.clone(),
            consumption_g: s.consumption_g.clone(),
            utilization_pct: s.utilization_pct.clone(),
        })
        .collect();
    Ok(EstimatesSection { year, substances })
}

fn flags_section(conn: &mut PgConnection, request: &BuildRequest, range: DateRange) -> AnalyticsResult<FlagsSection> {
    use diesel::dsl::count_star;

    use crate::db::schema::flags as f;
    let rows: Vec<(String, Severity, FlagStatus, i64)> = f::table
        .filter(f::country_code.eq(&request.country))
        .filter(f::mode.ne(RuleMode::Shadow))
        .filter(f::period_from.le(range.to))
        .filter(f::period_to.ge(range.from))
        .group_by((f::rule_code, f::severity, f::status))
        .select((f::rule_code, f::severity, f::status, count_star()))
        .order_by((f::rule_code, f::severity, f::status))
        .load(conn)?;
    let cells: Vec<i64> = rows.iter().map(|r| r.3).collect();
    let (counts, total) = protect(&cells, cells.iter().sum());
    let counts = rows.into_iter().zip(counts).map(|((rule, severity, status, _), count)| FlagCount { rule, severity, status, count }).collect();
    Ok(FlagsSection { counts, total })
}

/// What a national instance posts to the hub: the package, the public key of the key that
/// signed it and the Ed25519 signature over its canonical serialization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct SignedPackage {
    /// The signing instance's public key, 64 hex digits, as registered on the hub.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub public_key: String,
    /// Ed25519 signature of the canonical package, 128 hex digits.
    #[schema(pattern = "^[0-9a-f]{128}$")]
    pub signature: String,
    pub package: Package,
}
