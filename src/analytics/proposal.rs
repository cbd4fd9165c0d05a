//! An estimate for a substance and year by the methods of the INCB–WHO Guide on Estimating
//! Requirements for Substances under International Control (2012), showing every input
//! (formulas in `domain::estimates`):
//! - `consumption`: the consumption of the recent completed years that have data (a year
//!   before the country's first record is no data, not zero), its trend when there are two
//!   years or more, plus the reserve to hold, less the stock held at the national wholesale
//!   level;
//! - `morbidity`: the deaths by cause the ministry recorded (`deaths_by_cause`) × the share
//!   needing opioid treatment × days of treatment per cause, × the mean daily dose of the
//!   substance; each parameter an analytics parameter with its source, defaults said so;
//! - `per_capita_reference`: population × a reference consumption in morphine equivalents,
//!   split to the substance by its share of recent consumption: a comparison only, never a
//!   proposal.
//!
//! `missing` names `deaths` when none are recorded: nothing is proposed from nothing. (A
//! population is always known: a country's own figure is required, regions' figures are
//! preferred when every region has one.)

use std::collections::BTreeMap;

use bigdecimal::{BigDecimal, RoundingMode, Zero};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::analytics::{AnalyticsError, AnalyticsResult, is_wholesale};
use crate::analytics::{Catalog, grams, supplies_retail};
use crate::db::enums::FacilityKind;
use crate::db::models::analytics_parameter::AnalyticsParameter;
use crate::db::models::country::Country;
use crate::db::models::deaths::DeathsByCause;
use crate::db::models::region::{Region, RegionPopulation};
use crate::db::models::substance::Substance;
use crate::db::reports::flows::{self, DateRange, Source};
use crate::domain::decimal::Decimal;
use crate::domain::estimates::{CauseNeed, consumption_based, morbidity_need_mg, patient_days};
use crate::domain::ids::{ProductId, RegionId, SubstanceId};
use crate::domain::period::{Tz, local_day, today_in};

/// How the consumption-based proposal is computed.
pub const CONSUMPTION_METHOD: &str = "INCB-WHO Guide 2012, consumption-based: consumption of the recent years with data, projected by its trend \
     (two years or more) + reserve stock − stock held at the national wholesale level";

/// How the morbidity-based proposal is computed.
pub const MORBIDITY_METHOD: &str = "INCB-WHO Guide 2012, morbidity-based: Σ over causes of deaths × share needing opioid treatment × days of \
     treatment, × mean daily dose (mg of the substance)";

/// How the per-capita comparison is computed.
pub const PER_CAPITA_METHOD: &str = "comparison only: population × reference consumption (mg ME per capita) × the substance's share of recent \
     ME consumption ÷ its ME factor";

/// Why a proposal's method is incomplete or how its figures were taken: a stable `code`
/// with its values, so each front door words it in its language. `Display` gives the
/// English sentence the API returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalNote {
    /// The first record falls inside the first year with data.
    FirstRecord {
        day: NaiveDate,
    },
    NoRecord,
    NoCompletedYear,
    OneYear,
    NoConsumptionToSplit,
    NoMeFactor {
        inn: String,
    },
    /// A cause of death without its share needing opioids or days of treatment.
    CauseNotConfigured {
        cause: String,
    },
    NoDeaths {
        year: i32,
        country: String,
    },
    /// No mean daily dose: `parameter` is the analytics parameter to set.
    NoDailyDose {
        inn: String,
        parameter: String,
    },
}

impl ProposalNote {
    /// The note's stable code (`proposal-note-<code>` in the page catalogues).
    pub fn code(&self) -> &'static str {
        match self {
            ProposalNote::FirstRecord { .. } => "first-record",
            ProposalNote::NoRecord => "no-record",
            ProposalNote::NoCompletedYear => "no-completed-year",
            ProposalNote::OneYear => "one-year",
            ProposalNote::NoConsumptionToSplit => "no-consumption-to-split",
            ProposalNote::NoMeFactor { .. } => "no-me-factor",
            ProposalNote::CauseNotConfigured { .. } => "cause-not-configured",
            ProposalNote::NoDeaths { .. } => "no-deaths",
            ProposalNote::NoDailyDose { .. } => "no-daily-dose",
        }
    }

    /// The note's values by name, its day written by `date`.
    pub fn values(&self, date: impl Fn(NaiveDate) -> String) -> Vec<(&'static str, String)> {
        match self {
            ProposalNote::FirstRecord { day } => vec![("day", date(*day)), ("year", day.year().to_string())],
            ProposalNote::NoMeFactor { inn } => vec![("inn", inn.clone())],
            ProposalNote::CauseNotConfigured { cause } => vec![("cause", cause.clone())],
            ProposalNote::NoDeaths { year, country } => vec![("year", year.to_string()), ("country", country.clone())],
            ProposalNote::NoDailyDose { inn, parameter } => vec![("inn", inn.clone()), ("parameter", parameter.clone())],
            ProposalNote::NoRecord | ProposalNote::NoCompletedYear | ProposalNote::OneYear | ProposalNote::NoConsumptionToSplit => Vec::new(),
        }
    }
}

impl std::fmt::Display for ProposalNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProposalNote::FirstRecord { day } => write!(f, "the first record is of {day}: {} counts from that day only", day.year()),
            ProposalNote::NoRecord => f.write_str("no record yet: no year has data"),
            ProposalNote::NoCompletedYear => f.write_str("no completed year with data: the consumption-based method needs at least one"),
            ProposalNote::OneYear => f.write_str("one year with data: taken as it is, without a trend"),
            ProposalNote::NoConsumptionToSplit => {
                f.write_str("no recent consumption in morphine equivalents to split the reference between substances")
            }
            ProposalNote::NoMeFactor { inn } => write!(f, "{inn} has no morphine-equivalence factor configured"),
            ProposalNote::CauseNotConfigured { cause } => write!(
                f,
                "{cause}: no share needing opioids or days of treatment configured (morbidity_{cause}_share_needing_opioids, morbidity_{cause}_treatment_days): left out"
            ),
            ProposalNote::NoDeaths { year, country } => {
                write!(f, "no deaths by cause recorded for {year} or before: PUT /api/v1/countries/{country}/deaths/{{year}}")
            }
            ProposalNote::NoDailyDose { inn, parameter } => write!(f, "no mean daily dose configured for {inn} ({parameter})"),
        }
    }
}

/// Something a method needs and the country has not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Deaths,
}

impl Missing {
    pub fn as_str(self) -> &'static str {
        match self {
            Missing::Deaths => "deaths",
        }
    }
}

#[derive(Debug, Clone)]
pub struct YearConsumption {
    pub year: i32,
    pub consumption_g: Decimal,
}

/// The consumption-based proposal and its inputs (grams to three decimals).
#[derive(Debug, Clone)]
pub struct ConsumptionBasedProposal {
    /// The recent completed years with data, oldest first.
    pub history: Vec<YearConsumption>,
    /// Recent years before the country's first record: no data, left out (not zero).
    pub years_without_data: Vec<i32>,
    /// The day of the country's first ledger record.
    pub first_record_on: Option<NaiveDate>,
    /// Mean annual change over the history (g per year; least squares; two years or more).
    pub trend_g_per_year: Option<Decimal>,
    pub projected_consumption_g: Option<Decimal>,
    pub reserve_months: Decimal,
    pub reserve_stock_g: Option<Decimal>,
    /// Stock held now by importers and wholesalers: the reserve already in the country.
    pub wholesale_stock_g: Decimal,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<ProposalNote>,
}

/// One cause of death in the morbidity method.
#[derive(Debug, Clone)]
pub struct CauseLine {
    pub cause: String,
    pub deaths: i64,
    pub share_needing_opioids: Option<AnalyticsParameter>,
    pub treatment_days: Option<AnalyticsParameter>,
    /// deaths × share × days; `None` when a parameter is not configured (the cause is then
    /// left out of the need and named in `notes`).
    pub patient_days: Option<Decimal>,
}

/// The morbidity-based proposal and its inputs.
#[derive(Debug, Clone)]
pub struct MorbidityBasedProposal {
    /// The latest year not after the estimate year with deaths recorded.
    pub deaths_year: Option<i32>,
    pub deaths_source: Option<String>,
    pub causes: Vec<CauseLine>,
    pub daily_dose_mg: Option<AnalyticsParameter>,
    pub need_mg: Option<Decimal>,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<ProposalNote>,
}

/// Where the reference consumption of the per-capita comparison comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceSource {
    /// Given in the request.
    Request,
    /// The stored analytics parameter, with its source.
    Stored(String),
}

/// The per-capita comparison and its inputs: never the proposal.
#[derive(Debug, Clone)]
pub struct PerCapitaReference {
    pub population: Decimal,
    pub reference_me_mg_per_capita: Decimal,
    pub reference_source: ReferenceSource,
    /// Share of this substance in the country's recent morphine-equivalent consumption.
    pub substance_share_of_me: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub need_me_mg: Option<Decimal>,
    pub comparison_g: Option<Decimal>,
    pub notes: Vec<ProposalNote>,
}

#[derive(Debug, Clone)]
pub struct EstimateProposal {
    pub country: String,
    pub substance_id: SubstanceId,
    pub inn: String,
    pub year: i32,
    pub current_estimate_g: Option<Decimal>,
    pub consumption_based: ConsumptionBasedProposal,
    pub morbidity_based: MorbidityBasedProposal,
    pub per_capita_reference: PerCapitaReference,
    pub missing: Vec<Missing>,
}

fn round3(v: &BigDecimal) -> Decimal {
    Decimal(v.with_scale_round(3, RoundingMode::HalfUp).normalized())
}

pub struct ProposalRequest {
    pub country: String,
    pub substance_id: SubstanceId,
    pub year: i32,
    pub reference_me_mg_per_capita: Option<BigDecimal>,
    pub reserve_months: Option<BigDecimal>,
    /// The instant asked at; which years have ended is the country's local calendar's.
    pub now: DateTime<Utc>,
}

/// The shipped parameter `code` (a migration inserts it): its value and source.
fn parameter(conn: &mut PgConnection, code: &str) -> QueryResult<(BigDecimal, String)> {
    AnalyticsParameter::find(conn, code)?.map(|p| (p.value.0, p.source)).ok_or(diesel::result::Error::NotFound)
}

/// The population for `year`: every region's figure when all have one (the latest such
/// year not after it), else the country's own figure (never zero: the table checks it).
fn population(conn: &mut PgConnection, country: &Country, year: i32) -> QueryResult<BigDecimal> {
    let regions = Region::of_country(conn, &country.code)?;
    let ids: Vec<RegionId> = regions.iter().map(|r| r.id).collect();
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

/// The local day of the country's first stock record (stock always comes before a dispensing).
fn first_record_on(conn: &mut PgConnection, country: &str, zone: Tz) -> QueryResult<Option<NaiveDate>> {
    use crate::db::schema::stock_events as e;
    let first: Option<DateTime<Utc>> = e::table.filter(e::country_code.eq(country)).select(diesel::dsl::min(e::occurred_at)).first(conn)?;
    Ok(first.map(|t| local_day(zone, t)))
}

fn estimate_proposal(conn: &mut PgConnection, country: &Country, request: &ProposalRequest) -> QueryResult<EstimateProposal> {
    let zone = country.zone()?;
    let today = today_in(zone, request.now);
    let catalog = Catalog::load(conn, today)?;
    let s = request.substance_id;
    let first_record = first_record_on(conn, &country.code, zone)?;
    // Completed years before the estimate year, the three most recent; those before the
    // first record have no data.
    let recent_years: Vec<i32> =
        ((request.year - 4)..request.year).filter(|y| *y < today.year()).rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
    let (history_years, years_without_data): (Vec<i32>, Vec<i32>) = recent_years.iter().partition(|y| first_record.is_some_and(|f| f.year() <= **y));
    let mut history = Vec::new();
    let mut me_by_substance: BTreeMap<SubstanceId, BigDecimal> = BTreeMap::new();
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
    let (stored_reserve, _) = parameter(conn, "reserve_stock_months")?;
    let reserve_months = request.reserve_months.clone().unwrap_or(stored_reserve);
    let wholesale_stock_mg: BigDecimal = {
        use crate::db::schema::{facilities as f, stock_balances as b};
        let balances: Vec<(ProductId, i64, FacilityKind)> =
            b::table.inner_join(f::table).filter(b::country_code.eq(&country.code)).select((b::product_id, b::balance_units, f::kind)).load(conn)?;
        balances.into_iter().filter(|(p, _, kind)| is_wholesale(*kind) && catalog.substance_of(*p) == Some(s)).map(|(p, u, _)| catalog.mg(p, u)).sum()
    };
    let wholesale_stock = grams(&wholesale_stock_mg);
    let projection = consumption_based(&history, request.year, &reserve_months, &wholesale_stock);
    let mut notes = Vec::new();
    match first_record {
        Some(f) if history_years.first() == Some(&f.year()) && f.ordinal() > 1 => notes.push(ProposalNote::FirstRecord { day: f }),
        None => notes.push(ProposalNote::NoRecord),
        _ => {}
    }
    if history.is_empty() {
        notes.push(ProposalNote::NoCompletedYear);
    } else if history.len() == 1 {
        notes.push(ProposalNote::OneYear);
    }
    let consumption = ConsumptionBasedProposal {
        history: history.iter().map(|(y, g)| YearConsumption { year: *y, consumption_g: round3(g) }).collect(),
        years_without_data,
        first_record_on: first_record,
        trend_g_per_year: projection.as_ref().and_then(|p| p.trend_per_year.as_ref()).map(round3),
        projected_consumption_g: projection.as_ref().map(|p| round3(&p.projected)),
        reserve_months: Decimal(reserve_months.normalized()),
        reserve_stock_g: projection.as_ref().map(|p| round3(&p.reserve)),
        wholesale_stock_g: round3(&wholesale_stock),
        proposed_estimate_g: projection.as_ref().map(|p| round3(&p.proposed)),
        notes,
    };

    let morbidity = morbidity_based(conn, country, &catalog, s, request.year)?;

    let (stored_reference, reference_source) = parameter(conn, "need_reference_me_mg_per_capita")?;
    let reference = request.reference_me_mg_per_capita.clone().unwrap_or(stored_reference);
    let people = population(conn, country, request.year)?;
    let total_me: BigDecimal = me_by_substance.values().sum();
    let me_factor = catalog.me_factor(s);
    let share = (!total_me.is_zero()).then(|| me_by_substance.get(&s).cloned().unwrap_or_default() / &total_me);
    let need_me = share.as_ref().map(|sh| &people * &reference * sh);
    let comparison = match (&need_me, &me_factor) {
        (Some(n), Some(f)) if !f.is_zero() => Some(grams(&(n / f))),
        _ => None,
    };
    let mut reference_notes = Vec::new();
    if share.is_none() {
        reference_notes.push(ProposalNote::NoConsumptionToSplit);
    }
    if me_factor.is_none() {
        reference_notes.push(ProposalNote::NoMeFactor { inn: catalog.inn(s) });
    }
    let per_capita = PerCapitaReference {
        population: Decimal(people.normalized()),
        reference_me_mg_per_capita: Decimal(reference.normalized()),
        reference_source: if request.reference_me_mg_per_capita.is_some() {
            ReferenceSource::Request
        } else {
            ReferenceSource::Stored(reference_source)
        },
        substance_share_of_me: share.as_ref().map(|v| Decimal(v.with_scale_round(6, RoundingMode::HalfUp).normalized())),
        me_factor: me_factor.map(Decimal::from),
        need_me_mg: need_me.as_ref().map(round3),
        comparison_g: comparison.as_ref().map(round3),
        notes: reference_notes,
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
    let mut missing = Vec::new();
    if morbidity.deaths_year.is_none() {
        missing.push(Missing::Deaths);
    }
    Ok(EstimateProposal {
        country: country.code.clone(),
        substance_id: s,
        inn: catalog.inn(s),
        year: request.year,
        current_estimate_g: current_estimate.map(|g| Decimal(g.normalized())),
        consumption_based: consumption,
        morbidity_based: morbidity,
        per_capita_reference: per_capita,
        missing,
    })
}

/// The analytics parameter `code`, if configured.
fn stored(parameters: &[AnalyticsParameter], code: &str) -> Option<AnalyticsParameter> {
    parameters.iter().find(|p| p.code == code).cloned()
}

/// The morbidity method for substance `s`: the deaths of the latest year not after `year`,
/// the parameters `morbidity_<cause>_share_needing_opioids`, `morbidity_<cause>_treatment_days`
/// and `morbidity_daily_dose_mg_<inn>`.
fn morbidity_based(conn: &mut PgConnection, country: &Country, catalog: &Catalog, s: SubstanceId, year: i32) -> QueryResult<MorbidityBasedProposal> {
    let parameters = AnalyticsParameter::with_prefix(conn, "morbidity_")?;
    let inn = catalog.inn(s);
    let dose_code = format!("morbidity_daily_dose_mg_{}", inn.replace([' ', '-'], "_"));
    let daily_dose = stored(&parameters, &dose_code);
    let deaths_year = DeathsByCause::latest_year(conn, &country.code, year)?;
    let rows = match deaths_year {
        Some(y) => DeathsByCause::of_year(conn, &country.code, y)?,
        None => Vec::new(),
    };
    let mut notes = Vec::new();
    let mut needs = Vec::new();
    let causes: Vec<CauseLine> = rows
        .iter()
        .map(|r| {
            let share = stored(&parameters, &format!("morbidity_{}_share_needing_opioids", r.cause));
            let days = stored(&parameters, &format!("morbidity_{}_treatment_days", r.cause));
            let days_of = match (&share, &days) {
                (Some(sh), Some(d)) => {
                    let need = CauseNeed { deaths: r.deaths, share_needing_opioids: sh.value.0.clone(), treatment_days: d.value.0.clone() };
                    let pd = patient_days(&need);
                    needs.push(need);
                    Some(Decimal(pd.normalized()))
                }
                _ => {
                    notes.push(ProposalNote::CauseNotConfigured { cause: r.cause.clone() });
                    None
                }
            };
            CauseLine { cause: r.cause.clone(), deaths: r.deaths, share_needing_opioids: share, treatment_days: days, patient_days: days_of }
        })
        .collect();
    if deaths_year.is_none() {
        notes.push(ProposalNote::NoDeaths { year, country: country.code.clone() });
    }
    if daily_dose.is_none() {
        notes.push(ProposalNote::NoDailyDose { inn: inn.to_string(), parameter: dose_code.to_string() });
    }
    let need_mg = match (&daily_dose, needs.is_empty()) {
        (Some(dose), false) => Some(morbidity_need_mg(&needs, &dose.value.0)),
        _ => None,
    };
    Ok(MorbidityBasedProposal {
        deaths_year,
        deaths_source: rows.first().map(|r| r.source.clone()),
        causes,
        daily_dose_mg: daily_dose,
        need_mg: need_mg.as_ref().map(round3),
        proposed_estimate_g: need_mg.as_ref().map(|mg| round3(&grams(mg))),
        notes,
    })
}
