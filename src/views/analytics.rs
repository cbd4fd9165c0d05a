//! Analytics and INCB reports on the wire. Base masses are exact; rates are rounded to four
//! decimals at the end. Each report's wire type is made `From` the domain result of
//! `crate::analytics`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::analytics::{availability, consumption, estimates, incb, mass_balance, proposal, regional, stock_outs};
use crate::db::models::analytics_parameter::AnalyticsParameter;
use crate::db::reports::flows::DateRange;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, ProductId, RegionId, SubstanceId};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
}

/// A reference value a figure needed and did not have.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingValue {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    /// `sddd_mg`, `me_factor`.
    pub values: Vec<String>,
}

/// A basket substance consumed without an S-DDD configured.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingSubstance {
    pub inn: String,
    pub consumption_mg_base: Decimal,
}

/// The figures of an area (country, region) or a group over the period.
#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct AreaMetrics {
    /// Base mg supplied to the retail level (INCB consumption).
    pub consumption_mg_base: Option<Decimal>,
    /// Base mg dispensed to patients.
    pub dispensed_mg_base: Option<Decimal>,
    /// Of consumption.
    pub sddd_per_million_per_day: Option<Decimal>,
    /// Of consumption, over the days counted (`period.days`).
    pub me_mg_per_capita: Option<Decimal>,
    /// Of consumption, annualised: `me_mg_per_capita` × days of the year ÷ days counted (the
    /// same figure for a whole year; for a period in progress, the year at the same pace).
    pub me_mg_per_capita_per_year: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    /// Of dispensing, annualised like `me_mg_per_capita_per_year`.
    pub dispensed_me_mg_per_capita_per_year: Option<Decimal>,
    /// Adequacy band of `sddd_per_million_per_day`: a daily rate over the days counted, that
    /// is the annualised rate (see the report's `band_basis`).
    pub band: Option<String>,
    /// The band is provisional: the S-DDD total is `incomplete`.
    pub band_provisional: bool,
    /// S-DDD totals count the INCB opioid-analgesic basket only; `true` when a basket
    /// substance consumed in the period has no S-DDD configured, so the total leaves it out
    /// (a lower bound, never the figure).
    pub incomplete: bool,
    /// The basket substances left out of the S-DDD total, with their consumption.
    pub missing_substances: Vec<MissingSubstance>,
    /// Substances left out of a rate for want of a reference value, and `population` when
    /// the area has no population figure.
    pub missing: Vec<MissingValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubstanceMetrics {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    /// Counted in the S-DDD totals (INCB opioid-analgesic basket).
    pub in_sddd_basket: bool,
    pub sddd_mg: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub consumption_mg_base: Decimal,
    pub dispensed_mg_base: Decimal,
    pub sddd_per_million_per_day: Option<Decimal>,
    pub me_mg_per_capita: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    /// `sddd_mg` and/or `me_factor` when not configured.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionMetrics {
    #[schema(value_type = i64)]
    pub region_id: RegionId,
    pub name: String,
    /// Average population over the period; `null` without figures for its years.
    pub population: Option<Decimal>,
    #[serde(flatten)]
    pub metrics: AreaMetrics,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupMetrics {
    /// The group's key: `{"month": "2026-03"}`, `{"sex": "female"}` or `{"age_band": "60-74"}`.
    #[schema(value_type = Object)]
    pub key: serde_json::Value,
    pub population: Option<Decimal>,
    pub days: i64,
    #[serde(flatten)]
    pub metrics: AreaMetrics,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvailabilityReport {
    pub country: String,
    #[schema(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    /// The days counted: to today (the country's) when the period is not over.
    pub period: PeriodView,
    /// The period asked for is not over: `period.to` is today and `period.days` the days so
    /// far; per-capita figures are for those days, with their annualised `…_per_year`.
    pub partial: bool,
    /// What the adequacy bands are judged on.
    pub band_basis: BandBasis,
    /// Reference values (S-DDD, ME factors) are those in force on this date.
    pub reference_values_as_of: NaiveDate,
    /// Average population over the period.
    pub population: Option<Decimal>,
    /// `regions` (sum of every region's figures), `country` (the country's own figure,
    /// used when a region lacks one), `region`.
    pub population_source: String,
    pub total: AreaMetrics,
    pub substances: Vec<SubstanceMetrics>,
    pub regions: Vec<RegionMetrics>,
    /// Present with `group_by=month|sex|age_band`. By sex and age band only dispensed
    /// quantities are known.
    pub groups: Vec<GroupMetrics>,
}

/// What the adequacy bands are judged on: S-DDD per million inhabitants per day of
/// consumption, a daily rate over the days counted, so a period in progress is banded on
/// its annualised rate (the pace of the days so far), not on the share of a year it holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BandBasis {
    /// `sddd_per_million_per_day`.
    pub metric: String,
    /// The days the rate is over.
    pub days: i64,
    /// The days of the year an annualised figure scales to (365 or 366).
    pub year_days: i64,
    /// True: the band is of the rate per day, the same for the days counted and for a
    /// whole year at that pace.
    pub annualised: bool,
}

crate::string_enum! {
    /// How an availability report breaks its total down.
    GroupBy {
        Region => "region",
        Substance => "substance",
        Sex => "sex",
        AgeBand => "age_band",
        Month => "month",
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    /// ISO code; others than admin and the regional role see their own country.
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    /// A calendar year (or give `from` and `to`).
    #[param(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// One region of the country.
    #[param(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    pub group_by: Option<GroupBy>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CountryYearQuery {
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateUseView {
    #[schema(value_type = i64)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateUseReport {
    pub country: String,
    pub year: i32,
    pub period: PeriodView,
    pub substances: Vec<EstimateUseView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockOutQuery {
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    /// Also list pairs with at most this many days of stock left (default 30).
    #[param(minimum = 0, maximum = 3650)]
    #[validate(range(min = 0, max = 3650))]
    pub max_days_left: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockOutView {
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    pub facility_name: String,
    #[schema(value_type = i64)]
    pub region_id: RegionId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub balance_units: i64,
    /// Days since the balance reached zero.
    pub days_at_zero: Option<i64>,
    /// Units dispensed per day over the recent window.
    pub daily_rate_units: Decimal,
    /// Days the balance lasts at that rate; `null` without recent dispensing.
    pub days_of_stock_left: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessPointView {
    #[schema(value_type = i64)]
    pub region_id: RegionId,
    pub name: String,
    /// Licensed pharmacies and hospital pharmacies.
    pub dispensing_facilities: i64,
    pub population: Option<i64>,
    pub per_100k: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockOutReport {
    pub country: String,
    pub as_of: NaiveDate,
    /// The window behind the dispensing rates, in days.
    pub rate_window_days: i64,
    pub stock_outs: Vec<StockOutView>,
    pub low_stock: Vec<StockOutView>,
    pub access_points: Vec<AccessPointView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MassBalanceQuery {
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: i32,
    #[param(value_type = Option<i64>)]
    pub substance_id: Option<SubstanceId>,
}

/// Grams of base at the wholesale level (importers, wholesalers).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WholesaleBalance {
    pub opening_stock_g: Decimal,
    pub imports_g: Decimal,
    /// Not recorded by Tarozi yet: always 0.
    pub exports_g: Decimal,
    pub closing_stock_g: Decimal,
    /// Net transfers out of the wholesale level: shipped to pharmacies less what they sent
    /// back (transfers between importers and wholesalers leave the level's stock unchanged
    /// and count here only while in transit).
    pub supplied_to_retail_g: Decimal,
    /// opening + imports − exports − closing − supplied.
    pub residue_g: Decimal,
    /// What the ledger says of the residue: destruction, losses, thefts, adjustments, counts.
    pub recorded_destroyed_g: Decimal,
    pub recorded_lost_or_stolen_g: Decimal,
    pub recorded_adjustments_g: Decimal,
}

/// Grams of base at the retail level (pharmacies, hospital pharmacies).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetailBalance {
    /// Received from the supply chain (transfers in, receipts, direct imports, minus
    /// transfers out).
    pub supplied_g: Decimal,
    pub opening_stock_g: Decimal,
    pub closing_stock_g: Decimal,
    pub stock_change_g: Decimal,
    pub dispensed_g: Decimal,
    pub destroyed_g: Decimal,
    pub lost_or_stolen_g: Decimal,
    /// supplied − stock change − dispensed − destroyed − lost or stolen.
    pub residue_g: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MassBalanceView {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    pub wholesale: WholesaleBalance,
    pub retail: RetailBalance,
    /// Transferred within the chain but not (yet) received: every transfer's units sent less
    /// units received (in transit, or short on receipt).
    pub in_transit_or_short_g: Decimal,
    pub tolerance_pct: Decimal,
    /// Residues beyond the tolerance.
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MassBalanceReport {
    pub country: String,
    pub year: i32,
    pub substances: Vec<MassBalanceView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = i64)]
    pub substance_id: SubstanceId,
    /// The year to estimate for.
    #[param(minimum = 1962, maximum = 2200)]
    #[validate(range(min = 1962, max = 2200))]
    pub year: i32,
    /// Override of the stored reference consumption (mg morphine equivalent per capita).
    pub reference_me_mg_per_capita: Option<crate::domain::decimal::Decimal>,
    /// Override of the stored reserve stock in months of consumption.
    pub reserve_months: Option<crate::domain::decimal::Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearConsumption {
    pub year: i32,
    pub consumption_g: Decimal,
}

/// The consumption-based method (INCB–WHO Guide 2012).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsumptionBasedProposal {
    /// `consumption`.
    pub method: String,
    pub description: String,
    /// The recent completed years that have data, oldest first.
    pub history: Vec<YearConsumption>,
    /// Recent years before the country's first record: no data (not zero), left out.
    pub years_without_data: Vec<i32>,
    /// The day of the country's first stock record.
    pub first_record_on: Option<NaiveDate>,
    /// Mean annual change over the history (g per year; least squares; two years or more).
    pub trend_g_per_year: Option<Decimal>,
    pub projected_consumption_g: Option<Decimal>,
    pub reserve_months: Decimal,
    pub reserve_stock_g: Option<Decimal>,
    /// Stock held now at the national wholesale level (importers, wholesalers), set against
    /// the reserve; retail stock is not.
    pub wholesale_stock_g: Decimal,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<String>,
}

/// A parameter of the morbidity method, with its source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalParameter {
    /// The analytics parameter (`PATCH /api/v1/analytics/parameters/{code}`).
    pub code: String,
    pub value: Decimal,
    pub source: String,
    /// Still the default Tarozi ships, not a value set for the country.
    pub is_default: bool,
}

/// One cause of death in the morbidity method.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MorbidityCause {
    pub cause: String,
    pub deaths: i64,
    pub share_needing_opioids: Option<ProposalParameter>,
    pub treatment_days: Option<ProposalParameter>,
    /// deaths × share × days; `null` when a parameter is not configured (left out).
    pub patient_days: Option<Decimal>,
}

/// The morbidity-based method (INCB–WHO Guide 2012).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MorbidityBasedProposal {
    /// `morbidity`.
    pub method: String,
    pub description: String,
    /// The latest year not after the estimate year with deaths recorded.
    pub deaths_year: Option<i32>,
    pub deaths_source: Option<String>,
    pub causes: Vec<MorbidityCause>,
    /// Mean daily dose, mg of the substance.
    pub daily_dose_mg: Option<ProposalParameter>,
    /// Σ patient-days × daily dose, mg of the substance.
    pub need_mg: Option<Decimal>,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<String>,
}

/// The per-capita reference: a comparison figure only, never a proposal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PerCapitaReference {
    /// `per_capita_reference`.
    pub method: String,
    pub description: String,
    pub population: Decimal,
    pub reference_me_mg_per_capita: Decimal,
    pub reference_source: String,
    /// Share of this substance in the country's recent morphine-equivalent consumption.
    pub substance_share_of_me: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub need_me_mg: Option<Decimal>,
    /// Grams of base the reference consumption would mean: to compare, not to propose.
    pub comparison_g: Option<Decimal>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateProposal {
    pub country: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    pub year: i32,
    pub current_estimate_g: Option<Decimal>,
    /// The methods that propose (`consumption`, `morbidity`) and the comparison
    /// (`per_capita_reference`), in that order.
    pub methods: Vec<String>,
    pub consumption_based: ConsumptionBasedProposal,
    pub morbidity_based: MorbidityBasedProposal,
    pub per_capita_reference: PerCapitaReference,
    /// What the country has not recorded and a method needs: `deaths`.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryAggregate {
    pub country: String,
    pub name: String,
    pub population: Option<Decimal>,
    #[serde(flatten)]
    pub metrics: AreaMetrics,
    pub dispensing_facilities: i64,
}

crate::string_enum! {
    /// What a regional view is read from: this instance's own database (every country in
    /// one database), or the packages countries sent this hub.
    RegionalSource {
        Database => "database",
        Packages => "packages",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionalReport {
    pub year: i32,
    pub period: PeriodView,
    pub source: RegionalSource,
    /// Per-country aggregates from this database (empty on a hub).
    pub countries: Vec<CountryAggregate>,
    /// On a hub: per country, each ended month of the year as received — the package in
    /// force, or that it is missing or withholds sections (empty elsewhere).
    pub exchange: Vec<crate::views::exchange::CountryExchangeView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegionalQuery {
    #[param(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthlyConsumption {
    pub month: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    pub consumption_g: Decimal,
    pub dispensed_g: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsumptionReport {
    pub country: String,
    #[schema(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    /// The days counted: to today (the country's) when the period is not over.
    pub period: PeriodView,
    /// The period asked for is not over: the last month holds the days so far only.
    pub partial: bool,
    pub months: Vec<MonthlyConsumption>,
}

/// A quantity as the INCB forms write it: whole kilograms and the grams beyond them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KgG {
    pub kg: i64,
    pub g: Decimal,
    pub total_g: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormCLine {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    /// Quantity consumed (supplied to the retail level) in the year.
    pub consumed: KgG,
    /// Stocks held by importers and wholesalers at 31 December; `null` while the form is
    /// `provisional` (the year is not over: see `stocks_as_of`).
    pub stocks_31_december: Option<KgG>,
    /// Stocks held by importers and wholesalers at the end of `as_of` (31 December once the
    /// year is over).
    pub stocks_as_of: KgG,
    /// Imported in the year.
    pub imported: KgG,
    /// Exported in the year (shipments against export authorizations).
    pub exported: KgG,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormC {
    pub form: String,
    pub country: String,
    pub year: i32,
    /// The year is not over in the country: figures run to `as_of` only and may change.
    pub provisional: bool,
    /// The last day counted and the day stocks are read at (31 December once the year is
    /// over).
    pub as_of: NaiveDate,
    pub lines: Vec<FormCLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormALine {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    pub exporting_country: String,
    pub imported: KgG,
}

/// A quarter's exports of one substance to one importing country.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormAExportLine {
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub inn: String,
    pub importing_country: String,
    pub exported: KgG,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormA {
    pub form: String,
    pub country: String,
    pub year: i32,
    pub quarter: u32,
    /// The quarter is not over in the country: imports run to `as_of` only and may change.
    pub provisional: bool,
    /// The last day counted (the quarter's last day once it is over).
    pub as_of: NaiveDate,
    /// Imports by substance and exporting country.
    pub lines: Vec<FormALine>,
    /// Exports by substance and importing country.
    pub exports: Vec<FormAExportLine>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormQuery {
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: i32,
    /// 1 to 4 (Form A).
    #[param(minimum = 1, maximum = 4)]
    #[validate(range(min = 1, max = 4))]
    pub quarter: Option<u32>,
    /// `json` (default) or `csv`.
    pub format: Option<ReportFormat>,
}

crate::string_enum! {
    /// How an INCB form is sent.
    ReportFormat {
        Json => "json",
        Csv => "csv",
    }
}

/// A band of S-DDD per million inhabitants per day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AdequacyBandView {
    #[schema(min_length = 2, max_length = 40)]
    #[validate(length(min = 2, max = 40), custom(function = "crate::views::text::single_line"))]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub label: String,
    /// Inclusive lower bound.
    pub min_sddd: Decimal,
    /// Exclusive upper bound; `null` for the top band.
    pub max_sddd: Option<Decimal>,
    /// Areas in this band are raised as `very_low_availability` findings.
    pub is_finding: bool,
    #[schema(min_length = 3, max_length = 1000)]
    #[validate(length(min = 3, max = 1000), custom(function = "crate::views::text::free_text"))]
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AdequacyBands {
    #[schema(min_items = 1, max_items = 20)]
    #[validate(nested, length(min = 1, max = 20))]
    pub bands: Vec<AdequacyBandView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnalyticsParameterView {
    pub code: String,
    pub value: Decimal,
    pub unit: String,
    pub description: String,
    pub source: String,
    /// Still the value Tarozi ships, not yet set by an admin.
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnalyticsParameterList {
    pub parameters: Vec<AnalyticsParameterView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParameterPatch {
    pub value: Decimal,
    #[schema(min_length = 3, max_length = 1000)]
    #[validate(length(min = 3, max = 1000), custom(function = "crate::views::text::free_text"))]
    pub source: String,
}

// The wire form of the analytics results. Figures arrive rounded as published; these only
// name and shape them.

impl From<&DateRange> for PeriodView {
    fn from(range: &DateRange) -> Self {
        PeriodView { from: range.from, to: range.to, days: range.days() }
    }
}

impl GroupBy {
    /// The breakdown into groups this asks for: `region` and `substance` are in every report.
    pub fn grouping(self) -> Option<availability::Grouping> {
        match self {
            GroupBy::Month => Some(availability::Grouping::Month),
            GroupBy::Sex => Some(availability::Grouping::Sex),
            GroupBy::AgeBand => Some(availability::Grouping::AgeBand),
            GroupBy::Region | GroupBy::Substance => None,
        }
    }
}

fn reference_values(values: &[availability::ReferenceValue]) -> Vec<String> {
    values.iter().map(|v| v.as_str().to_owned()).collect()
}

impl From<&availability::MissingValue> for MissingValue {
    fn from(m: &availability::MissingValue) -> Self {
        MissingValue { substance_id: m.substance_id, inn: m.inn.clone(), values: reference_values(&m.values) }
    }
}

impl From<&availability::AreaMetrics> for AreaMetrics {
    fn from(m: &availability::AreaMetrics) -> Self {
        AreaMetrics {
            consumption_mg_base: m.consumption_mg_base.clone(),
            dispensed_mg_base: m.dispensed_mg_base.clone(),
            sddd_per_million_per_day: m.sddd_per_million_per_day.clone(),
            me_mg_per_capita: m.me_mg_per_capita.clone(),
            me_mg_per_capita_per_year: m.me_mg_per_capita_per_year.clone(),
            dispensed_sddd_per_million_per_day: m.dispensed_sddd_per_million_per_day.clone(),
            dispensed_me_mg_per_capita: m.dispensed_me_mg_per_capita.clone(),
            dispensed_me_mg_per_capita_per_year: m.dispensed_me_mg_per_capita_per_year.clone(),
            band: m.band.as_ref().map(|b| b.code.clone()),
            band_provisional: m.band.is_some() && m.incomplete,
            incomplete: m.incomplete,
            missing_substances: m
                .missing_substances
                .iter()
                .map(|(inn, mg)| MissingSubstance { inn: inn.clone(), consumption_mg_base: mg.clone() })
                .collect(),
            missing: m.missing.iter().map(MissingValue::from).collect(),
        }
    }
}

impl From<&availability::SubstanceMetrics> for SubstanceMetrics {
    fn from(s: &availability::SubstanceMetrics) -> Self {
        SubstanceMetrics {
            substance_id: s.substance_id,
            inn: s.inn.clone(),
            in_sddd_basket: s.in_sddd_basket,
            sddd_mg: s.sddd_mg.clone(),
            me_factor: s.me_factor.clone(),
            consumption_mg_base: s.consumption_mg_base.clone(),
            dispensed_mg_base: s.dispensed_mg_base.clone(),
            sddd_per_million_per_day: s.sddd_per_million_per_day.clone(),
            me_mg_per_capita: s.me_mg_per_capita.clone(),
            dispensed_sddd_per_million_per_day: s.dispensed_sddd_per_million_per_day.clone(),
            dispensed_me_mg_per_capita: s.dispensed_me_mg_per_capita.clone(),
            missing: reference_values(&s.missing),
        }
    }
}

impl From<&availability::RegionMetrics> for RegionMetrics {
    fn from(r: &availability::RegionMetrics) -> Self {
        RegionMetrics { region_id: r.region_id, name: r.name.clone(), population: r.population.clone(), metrics: (&r.metrics).into() }
    }
}

/// `{"month": "2026-03"}`, `{"sex": "female"}`, `{"age_band": "60-74"}`.
fn group_key(key: &availability::GroupKey) -> serde_json::Value {
    match key {
        availability::GroupKey::Month(month) => json!({"month": month.label()}),
        availability::GroupKey::Sex(sex) => json!({"sex": sex}),
        availability::GroupKey::AgeBand(band) => json!({"age_band": band}),
    }
}

impl From<&availability::GroupMetrics> for GroupMetrics {
    fn from(g: &availability::GroupMetrics) -> Self {
        GroupMetrics { key: group_key(&g.key), population: g.population.clone(), days: g.days, metrics: (&g.metrics).into() }
    }
}

impl From<&availability::AvailabilityReport> for AvailabilityReport {
    fn from(r: &availability::AvailabilityReport) -> Self {
        AvailabilityReport {
            country: r.country.clone(),
            region_id: r.region_id,
            period: (&r.period).into(),
            partial: r.partial,
            band_basis: BandBasis { metric: "sddd_per_million_per_day".to_owned(), days: r.period.days(), year_days: r.year_days, annualised: true },
            reference_values_as_of: r.reference_values_as_of,
            population: r.population.clone(),
            population_source: r.population_source.as_str().to_owned(),
            total: (&r.total).into(),
            substances: r.substances.iter().map(SubstanceMetrics::from).collect(),
            regions: r.regions.iter().map(RegionMetrics::from).collect(),
            groups: r.groups.iter().map(GroupMetrics::from).collect(),
        }
    }
}

impl From<&consumption::MonthlyConsumption> for MonthlyConsumption {
    fn from(m: &consumption::MonthlyConsumption) -> Self {
        MonthlyConsumption {
            month: m.month.label(),
            substance_id: m.substance_id,
            inn: m.inn.clone(),
            consumption_g: m.consumption_g.clone(),
            dispensed_g: m.dispensed_g.clone(),
        }
    }
}

impl From<&consumption::ConsumptionReport> for ConsumptionReport {
    fn from(r: &consumption::ConsumptionReport) -> Self {
        ConsumptionReport {
            country: r.country.clone(),
            region_id: r.region_id,
            period: (&r.period).into(),
            partial: r.partial,
            months: r.months.iter().map(MonthlyConsumption::from).collect(),
        }
    }
}

impl From<&estimates::EstimateUseLine> for EstimateUseView {
    fn from(l: &estimates::EstimateUseLine) -> Self {
        EstimateUseView {
            substance_id: l.substance_id,
            inn: l.inn.clone(),
            estimate_g: l.estimate_g.clone(),
            authorized_g: l.authorized_g.clone(),
            received_g: l.received_g.clone(),
            consumption_g: l.consumption_g.clone(),
            utilization_pct: l.utilization_pct.clone(),
            imports_pct: l.imports_pct.clone(),
        }
    }
}

impl From<&estimates::EstimateUseReport> for EstimateUseReport {
    fn from(r: &estimates::EstimateUseReport) -> Self {
        EstimateUseReport {
            country: r.country.clone(),
            year: r.year,
            period: (&r.period).into(),
            substances: r.substances.iter().map(EstimateUseView::from).collect(),
        }
    }
}

impl From<&stock_outs::StockOut> for StockOutView {
    fn from(s: &stock_outs::StockOut) -> Self {
        StockOutView {
            facility_id: s.facility_id,
            facility_name: s.facility_name.clone(),
            region_id: s.region_id,
            product_id: s.product_id,
            balance_units: s.balance_units,
            days_at_zero: s.days_at_zero,
            daily_rate_units: s.daily_rate_units.clone(),
            days_of_stock_left: s.days_of_stock_left.clone(),
        }
    }
}

impl From<&stock_outs::AccessPoint> for AccessPointView {
    fn from(a: &stock_outs::AccessPoint) -> Self {
        AccessPointView {
            region_id: a.region_id,
            name: a.name.clone(),
            dispensing_facilities: a.dispensing_facilities,
            population: a.population,
            per_100k: a.per_100k.clone(),
        }
    }
}

impl From<&stock_outs::StockOutReport> for StockOutReport {
    fn from(r: &stock_outs::StockOutReport) -> Self {
        StockOutReport {
            country: r.country.clone(),
            as_of: r.as_of,
            rate_window_days: r.rate_window_days,
            stock_outs: r.stock_outs.iter().map(StockOutView::from).collect(),
            low_stock: r.low_stock.iter().map(StockOutView::from).collect(),
            access_points: r.access_points.iter().map(AccessPointView::from).collect(),
        }
    }
}

impl From<&mass_balance::WholesaleBalance> for WholesaleBalance {
    fn from(w: &mass_balance::WholesaleBalance) -> Self {
        WholesaleBalance {
            opening_stock_g: w.opening_stock_g.clone(),
            imports_g: w.imports_g.clone(),
            exports_g: w.exports_g.clone(),
            closing_stock_g: w.closing_stock_g.clone(),
            supplied_to_retail_g: w.supplied_to_retail_g.clone(),
            residue_g: w.residue_g.clone(),
            recorded_destroyed_g: w.recorded_destroyed_g.clone(),
            recorded_lost_or_stolen_g: w.recorded_lost_or_stolen_g.clone(),
            recorded_adjustments_g: w.recorded_adjustments_g.clone(),
        }
    }
}

impl From<&mass_balance::RetailBalance> for RetailBalance {
    fn from(r: &mass_balance::RetailBalance) -> Self {
        RetailBalance {
            supplied_g: r.supplied_g.clone(),
            opening_stock_g: r.opening_stock_g.clone(),
            closing_stock_g: r.closing_stock_g.clone(),
            stock_change_g: r.stock_change_g.clone(),
            dispensed_g: r.dispensed_g.clone(),
            destroyed_g: r.destroyed_g.clone(),
            lost_or_stolen_g: r.lost_or_stolen_g.clone(),
            residue_g: r.residue_g.clone(),
        }
    }
}

// The `mass_balance_residue` rule writes both balances into a finding's evidence with
// `json!`: they serialize as their wire form, so evidence and the mass-balance report say
// the same thing in the same words.
impl Serialize for mass_balance::WholesaleBalance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WholesaleBalance::from(self).serialize(serializer)
    }
}

impl Serialize for mass_balance::RetailBalance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RetailBalance::from(self).serialize(serializer)
    }
}

impl From<&mass_balance::MassBalance> for MassBalanceView {
    fn from(b: &mass_balance::MassBalance) -> Self {
        MassBalanceView {
            substance_id: b.substance_id,
            inn: b.inn.clone(),
            wholesale: (&b.wholesale).into(),
            retail: (&b.retail).into(),
            in_transit_or_short_g: b.in_transit_or_short_g.clone(),
            tolerance_pct: b.tolerance_pct.clone(),
            findings: b.findings.clone(),
        }
    }
}

impl MassBalanceReport {
    pub fn from_balances(country: String, year: i32, balances: &[mass_balance::MassBalance]) -> Self {
        MassBalanceReport { country, year, substances: balances.iter().map(MassBalanceView::from).collect() }
    }
}

impl From<&proposal::YearConsumption> for YearConsumption {
    fn from(y: &proposal::YearConsumption) -> Self {
        YearConsumption { year: y.year, consumption_g: y.consumption_g.clone() }
    }
}

impl From<&proposal::ConsumptionBasedProposal> for ConsumptionBasedProposal {
    fn from(p: &proposal::ConsumptionBasedProposal) -> Self {
        ConsumptionBasedProposal {
            method: "consumption".to_owned(),
            description: proposal::CONSUMPTION_METHOD.to_owned(),
            history: p.history.iter().map(YearConsumption::from).collect(),
            years_without_data: p.years_without_data.clone(),
            first_record_on: p.first_record_on,
            trend_g_per_year: p.trend_g_per_year.clone(),
            projected_consumption_g: p.projected_consumption_g.clone(),
            reserve_months: p.reserve_months.clone(),
            reserve_stock_g: p.reserve_stock_g.clone(),
            wholesale_stock_g: p.wholesale_stock_g.clone(),
            proposed_estimate_g: p.proposed_estimate_g.clone(),
            notes: p.notes.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<&AnalyticsParameter> for ProposalParameter {
    fn from(p: &AnalyticsParameter) -> Self {
        ProposalParameter { code: p.code.clone(), value: p.value.clone(), source: p.source.clone(), is_default: p.is_default }
    }
}

impl From<&proposal::MorbidityBasedProposal> for MorbidityBasedProposal {
    fn from(p: &proposal::MorbidityBasedProposal) -> Self {
        MorbidityBasedProposal {
            method: "morbidity".to_owned(),
            description: proposal::MORBIDITY_METHOD.to_owned(),
            deaths_year: p.deaths_year,
            deaths_source: p.deaths_source.clone(),
            causes: p
                .causes
                .iter()
                .map(|c| MorbidityCause {
                    cause: c.cause.clone(),
                    deaths: c.deaths,
                    share_needing_opioids: c.share_needing_opioids.as_ref().map(ProposalParameter::from),
                    treatment_days: c.treatment_days.as_ref().map(ProposalParameter::from),
                    patient_days: c.patient_days.clone(),
                })
                .collect(),
            daily_dose_mg: p.daily_dose_mg.as_ref().map(ProposalParameter::from),
            need_mg: p.need_mg.clone(),
            proposed_estimate_g: p.proposed_estimate_g.clone(),
            notes: p.notes.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<&proposal::PerCapitaReference> for PerCapitaReference {
    fn from(p: &proposal::PerCapitaReference) -> Self {
        PerCapitaReference {
            method: "per_capita_reference".to_owned(),
            description: proposal::PER_CAPITA_METHOD.to_owned(),
            population: p.population.clone(),
            reference_me_mg_per_capita: p.reference_me_mg_per_capita.clone(),
            reference_source: match &p.reference_source {
                proposal::ReferenceSource::Request => "given in the request".to_owned(),
                proposal::ReferenceSource::Stored(source) => source.clone(),
            },
            substance_share_of_me: p.substance_share_of_me.clone(),
            me_factor: p.me_factor.clone(),
            need_me_mg: p.need_me_mg.clone(),
            comparison_g: p.comparison_g.clone(),
            notes: p.notes.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<&proposal::EstimateProposal> for EstimateProposal {
    fn from(p: &proposal::EstimateProposal) -> Self {
        EstimateProposal {
            country: p.country.clone(),
            substance_id: p.substance_id,
            inn: p.inn.clone(),
            year: p.year,
            current_estimate_g: p.current_estimate_g.clone(),
            methods: vec!["consumption".to_owned(), "morbidity".to_owned(), "per_capita_reference".to_owned()],
            consumption_based: (&p.consumption_based).into(),
            morbidity_based: (&p.morbidity_based).into(),
            per_capita_reference: (&p.per_capita_reference).into(),
            missing: p.missing.iter().map(|m| m.as_str().to_owned()).collect(),
        }
    }
}

impl From<&regional::CountryAggregate> for CountryAggregate {
    fn from(c: &regional::CountryAggregate) -> Self {
        CountryAggregate {
            country: c.country.clone(),
            name: c.name.clone(),
            population: c.population.clone(),
            metrics: (&c.metrics).into(),
            dispensing_facilities: c.dispensing_facilities,
        }
    }
}

impl From<&regional::RegionalReport> for RegionalReport {
    fn from(r: &regional::RegionalReport) -> Self {
        RegionalReport {
            year: r.year,
            period: (&r.period).into(),
            source: RegionalSource::Database,
            countries: r.countries.iter().map(CountryAggregate::from).collect(),
            exchange: Vec::new(),
        }
    }
}

impl From<&incb::KgG> for KgG {
    fn from(q: &incb::KgG) -> Self {
        KgG { kg: q.kg, g: q.g.clone(), total_g: q.total_g.clone() }
    }
}

impl From<&incb::FormC> for FormC {
    fn from(f: &incb::FormC) -> Self {
        FormC {
            form: "C".to_owned(),
            country: f.country.clone(),
            year: f.year,
            provisional: f.provisional,
            as_of: f.as_of,
            lines: f
                .lines
                .iter()
                .map(|l| FormCLine {
                    substance_id: l.substance_id,
                    inn: l.inn.clone(),
                    consumed: (&l.consumed).into(),
                    stocks_31_december: (!f.provisional).then(|| (&l.stocks).into()),
                    stocks_as_of: (&l.stocks).into(),
                    imported: (&l.imported).into(),
                    exported: (&l.exported).into(),
                })
                .collect(),
        }
    }
}

impl From<&incb::FormA> for FormA {
    fn from(f: &incb::FormA) -> Self {
        FormA {
            form: "A".to_owned(),
            country: f.country.clone(),
            year: f.year,
            quarter: f.quarter,
            provisional: f.provisional,
            as_of: f.as_of,
            lines: f
                .lines
                .iter()
                .map(|l| FormALine {
                    substance_id: l.substance_id,
                    inn: l.inn.clone(),
                    exporting_country: l.exporting_country.clone(),
                    imported: (&l.imported).into(),
                })
                .collect(),
            exports: f
                .exports
                .iter()
                .map(|l| FormAExportLine {
                    substance_id: l.substance_id,
                    inn: l.inn.clone(),
                    importing_country: l.importing_country.clone(),
                    exported: (&l.exported).into(),
                })
                .collect(),
        }
    }
}

impl From<&crate::app::regional::RegionalView> for RegionalReport {
    fn from(r: &crate::app::regional::RegionalView) -> Self {
        use crate::app::regional::Source;
        match &r.source {
            Source::Database(report) => RegionalReport::from(report),
            Source::Hub(h) => RegionalReport {
                year: r.year,
                period: (&h.period).into(),
                source: RegionalSource::Packages,
                countries: Vec::new(),
                exchange: h.countries.iter().map(crate::views::exchange::CountryExchangeView::from).collect(),
            },
        }
    }
}
