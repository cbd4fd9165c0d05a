//! The availability report: consumption (supply to the retail level) and dispensing per
//! substance, region and group, as S-DDD per million inhabitants per day and morphine
//! equivalents per capita, with the adequacy band of each area. S-DDD totals and bands count
//! the INCB opioid-analgesic basket only; a basket substance consumed without an S-DDD makes
//! them `incomplete` and the band provisional (`domain::availability`).

use std::collections::{BTreeMap, BTreeSet};

use bigdecimal::{BigDecimal, Zero};
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::analytics::{AnalyticsError, AnalyticsResult, Catalog, supplies_retail};
use crate::db::enums::{AgeBand, PatientSex, Sex};
use crate::db::models::country::Country;
use crate::db::models::region::{Region, RegionPopulation, RegionPopulationGroup};
use crate::db::reports::flows::{self, DateRange, DispensedRow, Source, SupplyRow};
use crate::domain::availability::{Band, SubstanceAmount, band_of, metrics, period_population, round};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{ProductId, RegionId, SubstanceId};
use crate::domain::period::{Month, annualised, days_in_year_of};

/// What to report on.
#[derive(Debug, Clone)]
pub struct AvailabilityRequest {
    pub country: String,
    pub region_id: Option<RegionId>,
    /// The days counted (up to today when the period is not over).
    pub range: DateRange,
    /// The period asked for is not over: figures cover `range` only.
    pub partial: bool,
    /// The breakdown of the total into groups, if any.
    pub group_by: Option<Grouping>,
}

/// How the total is broken down into groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Month,
    /// Dispensing only: supply carries no patient.
    Sex,
    /// Dispensing only: supply carries no patient.
    AgeBand,
}

/// The key of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    Month(Month),
    Sex(PatientSex),
    AgeBand(AgeBand),
}

/// A reference value a rate needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceValue {
    SdddMg,
    MeFactor,
}

impl ReferenceValue {
    /// The value's stable code (the column of the reference values).
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceValue::SdddMg => "sddd_mg",
            ReferenceValue::MeFactor => "me_factor",
        }
    }
}

/// The reference values a substance lacks (those of `[SdddMg, MeFactor]` not configured).
fn missing_values(catalog: &Catalog, substance_id: SubstanceId) -> Vec<ReferenceValue> {
    let mut values = Vec::new();
    if catalog.sddd(substance_id).is_none() {
        values.push(ReferenceValue::SdddMg);
    }
    if catalog.me_factor(substance_id).is_none() {
        values.push(ReferenceValue::MeFactor);
    }
    values
}

/// A substance left out of a rate for want of reference values.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingValue {
    pub substance_id: SubstanceId,
    pub inn: String,
    pub values: Vec<ReferenceValue>,
}

/// The figures of an area (country, region) or a group over the period. Masses are exact
/// base mg; rates are rounded as published (`domain::availability::round`).
#[derive(Debug, Clone, Default)]
pub struct AreaMetrics {
    /// Supplied to the retail level (INCB consumption); `None` for groups that only know
    /// dispensing.
    pub consumption_mg_base: Option<Decimal>,
    pub dispensed_mg_base: Option<Decimal>,
    /// Of consumption.
    pub sddd_per_million_per_day: Option<Decimal>,
    /// Of consumption.
    pub me_mg_per_capita: Option<Decimal>,
    /// Of consumption, annualised: per capita over the days counted × days of the year ÷
    /// days counted (equal to `me_mg_per_capita` for a whole year).
    pub me_mg_per_capita_per_year: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    pub dispensed_me_mg_per_capita_per_year: Option<Decimal>,
    /// The adequacy band of `sddd_per_million_per_day` (a daily rate over the days counted,
    /// which a whole year at the same pace would have too: the band of the annualised rate).
    pub band: Option<Band>,
    /// A basket substance consumed in the period has no S-DDD: the S-DDD total (and band)
    /// leave it out.
    pub incomplete: bool,
    /// Those substances and their consumption (base mg).
    pub missing_substances: Vec<(String, Decimal)>,
    pub missing: Vec<MissingValue>,
}

#[derive(Debug, Clone)]
pub struct SubstanceMetrics {
    pub substance_id: SubstanceId,
    pub inn: String,
    pub in_sddd_basket: bool,
    pub sddd_mg: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub consumption_mg_base: Decimal,
    pub dispensed_mg_base: Decimal,
    pub sddd_per_million_per_day: Option<Decimal>,
    pub me_mg_per_capita: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    pub missing: Vec<ReferenceValue>,
}

#[derive(Debug, Clone)]
pub struct RegionMetrics {
    pub region_id: RegionId,
    pub name: String,
    /// Average population over the period; `None` without figures for its years.
    pub population: Option<Decimal>,
    pub metrics: AreaMetrics,
}

#[derive(Debug, Clone)]
pub struct GroupMetrics {
    pub key: GroupKey,
    pub population: Option<Decimal>,
    pub days: i64,
    pub metrics: AreaMetrics,
}

/// Where the population of the reported area comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationSource {
    /// The sum of every region's figures.
    Regions,
    /// The country's own figure (a region lacks one, or the country has none).
    Country,
    /// The one region reported on.
    Region,
    /// The one region reported on has no figure for the period.
    Missing,
}

impl PopulationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PopulationSource::Regions => "regions",
            PopulationSource::Country => "country",
            PopulationSource::Region => "region",
            PopulationSource::Missing => "missing",
        }
    }
}

/// The availability report.
#[derive(Debug, Clone)]
pub struct AvailabilityReport {
    pub country: String,
    pub region_id: Option<RegionId>,
    /// The days counted.
    pub period: DateRange,
    /// The period asked for is not over: `period` ends today, and per-capita figures are
    /// also given annualised.
    pub partial: bool,
    /// Days of the year the per-year figures scale to (365 or 366: the year of the first day).
    pub year_days: i64,
    /// Reference values (S-DDD, ME factors) are those in force on this date.
    pub reference_values_as_of: NaiveDate,
    /// Average population over the period.
    pub population: Option<Decimal>,
    pub population_source: PopulationSource,
    pub total: AreaMetrics,
    pub substances: Vec<SubstanceMetrics>,
    pub regions: Vec<RegionMetrics>,
    /// With a grouping; by sex and age band only dispensed quantities are known.
    pub groups: Vec<GroupMetrics>,
}

/// Base mg per substance: (consumption, dispensed).
type Amounts = BTreeMap<SubstanceId, (BigDecimal, BigDecimal)>;

pub fn bands(conn: &mut PgConnection) -> QueryResult<Vec<Band>> {
    use crate::db::schema::adequacy_bands as b;
    let rows: Vec<(String, BigDecimal, Option<BigDecimal>)> = b::table.order(b::min_sddd).select((b::code, b::min_sddd, b::max_sddd)).load(conn)?;
    Ok(rows.into_iter().map(|(code, min, max)| Band { code, min, max }).collect())
}

/// Units per product: (consumption, dispensed). Summed as integers, converted to base mass
/// once per product.
type Units = BTreeMap<ProductId, (i64, i64)>;

fn add(units: &mut Units, product_id: ProductId, consumption: i64, dispensed: i64) {
    let entry = units.entry(product_id).or_default();
    entry.0 += consumption;
    entry.1 += dispensed;
}

/// Base mg per substance of the units given.
fn amounts(units: &Units, catalog: &Catalog) -> Amounts {
    let mut out: Amounts = BTreeMap::new();
    for (product_id, (c, d)) in units {
        let Some(substance) = catalog.substance_of(*product_id) else { continue };
        let entry = out.entry(substance).or_insert_with(|| (BigDecimal::zero(), BigDecimal::zero()));
        entry.0 += catalog.mg(*product_id, *c);
        entry.1 += catalog.mg(*product_id, *d);
    }
    out
}

fn dec(v: &BigDecimal) -> Decimal {
    Decimal(v.normalized())
}

fn rate(v: Option<BigDecimal>) -> Option<Decimal> {
    v.map(|x| Decimal(round(&x)))
}

/// The figures of one area over `days` (of a year of `year_days` days, for annualising).
/// `consumption_known` is false for groups that only know dispensing (sex, age band);
/// `basket_only` is false for one substance's own line.
fn area(
    amounts: &Amounts,
    catalog: &Catalog,
    (days, year_days): (i64, i64),
    population: Option<&BigDecimal>,
    bands: &[Band],
    consumption_known: bool,
    basket_only: bool,
) -> AreaMetrics {
    let amount = |s: SubstanceId, mg: &BigDecimal| SubstanceAmount {
        substance_id: s,
        mg: mg.clone(),
        sddd_mg: catalog.sddd(s),
        me_factor: catalog.me_factor(s),
        in_basket: !basket_only || catalog.in_basket(s),
    };
    let consumption: Vec<SubstanceAmount> = amounts.iter().map(|(s, (c, _))| amount(*s, c)).collect();
    let dispensed: Vec<SubstanceAmount> = amounts.iter().map(|(s, (_, d))| amount(*s, d)).collect();
    let c = metrics(&consumption, days, population);
    let d = metrics(&dispensed, days, population);
    let missing = amounts
        .iter()
        .filter(|(_, (c, d))| !c.is_zero() || !d.is_zero())
        .filter_map(|(s, _)| {
            let values = missing_values(catalog, *s);
            (!values.is_empty()).then(|| MissingValue { substance_id: *s, inn: catalog.inn(*s), values })
        })
        .collect();
    let band = c.sddd_per_million_per_day.as_ref().filter(|_| consumption_known).and_then(|v| band_of(&round(v), bands)).cloned();
    let total = |pick: fn(&(BigDecimal, BigDecimal)) -> &BigDecimal| dec(&amounts.values().map(pick).sum::<BigDecimal>());
    let per_year = |v: &Option<BigDecimal>| rate(v.as_ref().and_then(|v| annualised(v, days, year_days)));
    AreaMetrics {
        consumption_mg_base: consumption_known.then(|| total(|a| &a.0)),
        dispensed_mg_base: Some(total(|a| &a.1)),
        sddd_per_million_per_day: if consumption_known { rate(c.sddd_per_million_per_day) } else { None },
        me_mg_per_capita_per_year: if consumption_known { per_year(&c.me_mg_per_capita) } else { None },
        me_mg_per_capita: if consumption_known { rate(c.me_mg_per_capita) } else { None },
        dispensed_sddd_per_million_per_day: rate(d.sddd_per_million_per_day),
        dispensed_me_mg_per_capita_per_year: per_year(&d.me_mg_per_capita),
        dispensed_me_mg_per_capita: rate(d.me_mg_per_capita),
        band,
        incomplete: consumption_known && c.incomplete,
        missing_substances: if consumption_known {
            c.missing_from_basket.iter().map(|(s, mg)| (catalog.inn(*s), dec(mg))).collect()
        } else {
            Vec::new()
        },
        missing,
    }
}

/// Population figures of the regions concerned.
struct Populations {
    regions: Vec<Region>,
    totals: BTreeMap<RegionId, BTreeMap<i32, i64>>,
    groups: Vec<RegionPopulationGroup>,
    country_figure: i64,
}

impl Populations {
    fn load(conn: &mut PgConnection, country: &Country, only: Option<RegionId>) -> AnalyticsResult<Populations> {
        let mut regions = Region::of_country(conn, &country.code)?;
        if let Some(id) = only {
            regions.retain(|r| r.id == id);
            if regions.is_empty() {
                return Err(AnalyticsError::RegionNotInCountry { country: country.code.clone(), region_id: id });
            }
        }
        let ids: Vec<RegionId> = regions.iter().map(|r| r.id).collect();
        let mut totals: BTreeMap<RegionId, BTreeMap<i32, i64>> = BTreeMap::new();
        for p in RegionPopulation::for_regions(conn, &ids)? {
            totals.entry(p.region_id).or_default().insert(p.year, p.total);
        }
        let groups = RegionPopulationGroup::for_regions(conn, &ids)?;
        Ok(Populations { regions, totals, groups, country_figure: country.population })
    }

    fn region(&self, id: RegionId, range: &DateRange) -> Option<BigDecimal> {
        period_population(&range.days_by_year(), self.totals.get(&id)?)
    }

    /// The area's population and where it comes from: the sum of the regions when every
    /// region has figures, else (for a whole country) the country's own figure.
    fn area(&self, range: &DateRange, whole_country: bool) -> (Option<BigDecimal>, PopulationSource) {
        let per_region: Option<Vec<BigDecimal>> = self.regions.iter().map(|r| self.region(r.id, range)).collect();
        match (per_region, whole_country) {
            (Some(v), true) if !v.is_empty() => (Some(v.into_iter().sum()), PopulationSource::Regions),
            (_, true) => (Some(BigDecimal::from(self.country_figure)), PopulationSource::Country),
            (Some(v), false) => (v.into_iter().next(), PopulationSource::Region),
            (None, false) => (None, PopulationSource::Missing),
        }
    }

    /// Population of one sex or age band, summed over the regions; `None` unless every
    /// region has the breakdown for every year of the range.
    fn group(&self, range: &DateRange, matches: impl Fn(&RegionPopulationGroup) -> bool) -> Option<BigDecimal> {
        let mut total = BigDecimal::zero();
        for r in &self.regions {
            let mut by_year: BTreeMap<i32, i64> = BTreeMap::new();
            for (year, _) in range.days_by_year() {
                let in_year: Vec<&RegionPopulationGroup> = self.groups.iter().filter(|g| g.region_id == r.id && g.year == year).collect();
                if in_year.is_empty() {
                    return None;
                }
                by_year.insert(year, in_year.into_iter().filter(|g| matches(g)).map(|g| g.count).sum());
            }
            total += period_population(&range.days_by_year(), &by_year)?;
        }
        Some(total)
    }
}

/// The availability report, read from `source`.
pub fn report(conn: &mut PgConnection, request: &AvailabilityRequest, source: Source) -> AnalyticsResult<AvailabilityReport> {
    let country = Country::find(conn, &request.country)?.ok_or_else(|| AnalyticsError::UnknownCountry(request.country.clone()))?;
    let range = request.range;
    let catalog = Catalog::load(conn, range.to)?;
    let bands = bands(conn)?;
    let populations = Populations::load(conn, &country, request.region_id)?;
    let supply = flows::supply(conn, &country.code, request.region_id, range, source)?;
    let by_patient_group = matches!(request.group_by, Some(Grouping::Sex | Grouping::AgeBand));
    let dispensed = flows::dispensed(conn, &country.code, request.region_id, range, source, by_patient_group)?;
    Ok(assemble(request, &country, &catalog, &bands, &populations, &supply, &dispensed))
}

fn assemble(
    request: &AvailabilityRequest,
    country: &Country,
    catalog: &Catalog,
    bands: &[Band],
    populations: &Populations,
    supply: &[SupplyRow],
    dispensed: &[DispensedRow],
) -> AvailabilityReport {
    let range = request.range;
    let days = (range.days(), days_in_year_of(range.from));
    let mut by_region: BTreeMap<RegionId, Units> = BTreeMap::new();
    for row in supply.iter().filter(|r| supplies_retail(r)) {
        add(by_region.entry(row.region_id).or_default(), row.product_id, row.units, 0);
    }
    for row in dispensed {
        add(by_region.entry(row.region_id).or_default(), row.product_id, 0, row.units);
    }
    let mut total_units: Units = BTreeMap::new();
    for units in by_region.values() {
        for (p, (c, d)) in units {
            add(&mut total_units, *p, *c, *d);
        }
    }
    let total = amounts(&total_units, catalog);
    let whole_country = request.region_id.is_none();
    let (population, population_source) = populations.area(&range, whole_country);

    let substances = total
        .iter()
        .map(|(s, (c, d))| {
            let single: Amounts = [(*s, (c.clone(), d.clone()))].into_iter().collect();
            let m = area(&single, catalog, days, population.as_ref(), bands, true, false);
            SubstanceMetrics {
                substance_id: *s,
                inn: catalog.inn(*s),
                in_sddd_basket: catalog.in_basket(*s),
                sddd_mg: catalog.sddd(*s).map(Decimal::from),
                me_factor: catalog.me_factor(*s).map(Decimal::from),
                consumption_mg_base: dec(c),
                dispensed_mg_base: dec(d),
                sddd_per_million_per_day: m.sddd_per_million_per_day,
                me_mg_per_capita: m.me_mg_per_capita,
                dispensed_sddd_per_million_per_day: m.dispensed_sddd_per_million_per_day,
                dispensed_me_mg_per_capita: m.dispensed_me_mg_per_capita,
                missing: missing_values(catalog, *s),
            }
        })
        .collect();

    let regions = populations
        .regions
        .iter()
        .map(|r| {
            let region_amounts = by_region.get(&r.id).map(|u| amounts(u, catalog)).unwrap_or_default();
            let pop = populations.region(r.id, &range);
            RegionMetrics {
                region_id: r.id,
                name: r.name.clone(),
                population: pop.as_ref().map(dec),
                metrics: area(&region_amounts, catalog, days, pop.as_ref(), bands, true, true),
            }
        })
        .collect();

    let groups = match request.group_by {
        Some(Grouping::Month) => month_groups(&range, catalog, bands, populations, whole_country, supply, dispensed),
        Some(Grouping::Sex) => {
            let mut out = Vec::new();
            for sex in PatientSex::ALL {
                let mut units: Units = BTreeMap::new();
                for row in dispensed.iter().filter(|r| r.patient_sex == Some(*sex)) {
                    add(&mut units, row.product_id, 0, row.units);
                }
                let group_amounts = amounts(&units, catalog);
                let pop = match sex {
                    PatientSex::Female => populations.group(&range, |g| g.sex == Sex::Female),
                    PatientSex::Male => populations.group(&range, |g| g.sex == Sex::Male),
                    PatientSex::Unknown => None,
                };
                out.push(GroupMetrics {
                    key: GroupKey::Sex(*sex),
                    population: pop.as_ref().map(dec),
                    days: days.0,
                    metrics: area(&group_amounts, catalog, days, pop.as_ref(), bands, false, true),
                });
            }
            out
        }
        Some(Grouping::AgeBand) => AgeBand::ALL
            .iter()
            .map(|band| {
                let mut units: Units = BTreeMap::new();
                for row in dispensed.iter().filter(|r| r.patient_age_band == Some(*band)) {
                    add(&mut units, row.product_id, 0, row.units);
                }
                let group_amounts = amounts(&units, catalog);
                let pop = populations.group(&range, |g| g.age_band == *band);
                GroupMetrics {
                    key: GroupKey::AgeBand(*band),
                    population: pop.as_ref().map(dec),
                    days: days.0,
                    metrics: area(&group_amounts, catalog, days, pop.as_ref(), bands, false, true),
                }
            })
            .collect(),
        None => Vec::new(),
    };

    AvailabilityReport {
        country: country.code.clone(),
        region_id: request.region_id,
        period: range,
        partial: request.partial,
        year_days: days.1,
        reference_values_as_of: catalog.as_of,
        population: population.as_ref().map(dec),
        population_source,
        total: area(&total, catalog, days, population.as_ref(), bands, true, true),
        substances,
        regions,
        groups,
    }
}

fn month_groups(
    range: &DateRange,
    catalog: &Catalog,
    bands: &[Band],
    populations: &Populations,
    whole_country: bool,
    supply: &[SupplyRow],
    dispensed: &[DispensedRow],
) -> Vec<GroupMetrics> {
    let months: BTreeSet<NaiveDate> = {
        let mut set = BTreeSet::new();
        let mut m = Month::of(range.from);
        while m.first_day() <= range.to {
            set.insert(m.first_day());
            m = m.next();
        }
        set
    };
    months
        .into_iter()
        .map(|first| {
            let month = Month::of(first);
            let part = DateRange { from: range.from.max(first), to: range.to.min(month.last_day()), zone: range.zone };
            let mut units: Units = BTreeMap::new();
            for row in supply.iter().filter(|r| r.month == first && supplies_retail(r)) {
                add(&mut units, row.product_id, row.units, 0);
            }
            for row in dispensed.iter().filter(|r| r.month == first) {
                add(&mut units, row.product_id, 0, row.units);
            }
            let month_amounts = amounts(&units, catalog);
            let (pop, _) = populations.area(&part, whole_country);
            GroupMetrics {
                key: GroupKey::Month(month),
                population: pop.as_ref().map(dec),
                days: part.days(),
                metrics: area(&month_amounts, catalog, (part.days(), days_in_year_of(part.from)), pop.as_ref(), bands, true, true),
            }
        })
        .collect()
}

/// Whether `year` has ended on `today`.
pub fn year_over(year: i32, today: NaiveDate) -> bool {
    NaiveDate::from_ymd_opt(year, 12, 31).is_some_and(|last| today > last)
}
