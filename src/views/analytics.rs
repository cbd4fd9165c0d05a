//! Analytics and INCB reports on the wire. Base masses are exact; rates are rounded to four
//! decimals at the end.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::decimal::Decimal;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
}

/// A reference value a figure needed and did not have.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingValue {
    pub substance_id: i64,
    pub inn: String,
    /// `sddd_mg`, `me_factor`.
    pub values: Vec<String>,
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
    /// Of consumption.
    pub me_mg_per_capita: Option<Decimal>,
    pub dispensed_sddd_per_million_per_day: Option<Decimal>,
    pub dispensed_me_mg_per_capita: Option<Decimal>,
    /// Adequacy band of `sddd_per_million_per_day`.
    pub band: Option<String>,
    /// Substances left out of a rate for want of a reference value, and `population` when
    /// the area has no population figure.
    pub missing: Vec<MissingValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubstanceMetrics {
    pub substance_id: i64,
    pub inn: String,
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
    pub region_id: i64,
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
    pub region_id: Option<i64>,
    pub period: PeriodView,
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
    pub region_id: Option<i64>,
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
    pub substance_id: i64,
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
    pub region_id: Option<i64>,
    /// Also list pairs with at most this many days of stock left (default 30).
    #[param(minimum = 0, maximum = 3650)]
    #[validate(range(min = 0, max = 3650))]
    pub max_days_left: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockOutView {
    pub facility_id: i64,
    pub facility_name: String,
    pub region_id: i64,
    pub product_id: i64,
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
    pub region_id: i64,
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
    pub substance_id: Option<i64>,
}

/// Grams of base at the wholesale level (importers, wholesalers).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WholesaleBalance {
    pub opening_stock_g: Decimal,
    pub imports_g: Decimal,
    /// Not recorded by Tarozi yet: always 0.
    pub exports_g: Decimal,
    pub closing_stock_g: Decimal,
    /// Shipped to other facilities (transfers out).
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
    pub substance_id: i64,
    pub inn: String,
    pub wholesale: WholesaleBalance,
    pub retail: RetailBalance,
    /// Shipped by wholesalers but not (yet) received at retail.
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
    pub substance_id: i64,
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsumptionBasedProposal {
    pub method: String,
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeedBasedProposal {
    pub method: String,
    pub population: Option<Decimal>,
    pub reference_me_mg_per_capita: Decimal,
    pub reference_source: String,
    /// Share of this substance in the country's recent morphine-equivalent consumption.
    pub substance_share_of_me: Option<Decimal>,
    pub me_factor: Option<Decimal>,
    pub need_me_mg: Option<Decimal>,
    pub proposed_estimate_g: Option<Decimal>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateProposal {
    pub country: String,
    pub substance_id: i64,
    pub inn: String,
    pub year: i32,
    pub current_estimate_g: Option<Decimal>,
    pub consumption_based: ConsumptionBasedProposal,
    pub need_based: NeedBasedProposal,
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionalReport {
    pub year: i32,
    pub period: PeriodView,
    pub countries: Vec<CountryAggregate>,
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
    pub substance_id: i64,
    pub inn: String,
    pub consumption_g: Decimal,
    pub dispensed_g: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsumptionReport {
    pub country: String,
    pub region_id: Option<i64>,
    pub period: PeriodView,
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
    pub substance_id: i64,
    pub inn: String,
    /// Quantity consumed (supplied to the retail level) in the year.
    pub consumed: KgG,
    /// Stocks held by importers and wholesalers at 31 December.
    pub stocks_31_december: KgG,
    /// Imported in the year.
    pub imported: KgG,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormC {
    pub form: String,
    pub country: String,
    pub year: i32,
    pub lines: Vec<FormCLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormALine {
    pub substance_id: i64,
    pub inn: String,
    pub exporting_country: String,
    pub imported: KgG,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormA {
    pub form: String,
    pub country: String,
    pub year: i32,
    pub quarter: u32,
    pub lines: Vec<FormALine>,
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
