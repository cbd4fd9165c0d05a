//! Reference data on the wire: substances, products, countries, regions, facilities.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::db::enums::{AgeBand, Convention, DosageForm, FacilityKind, Schedule, Sex, Unit};
use crate::db::models::country::Country;
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::region::Region;
use crate::db::models::substance::{ReferenceValues, Substance};
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, ProductId, RegionId, SubstanceId, SubstanceReferenceValueId};
use crate::views::{envelope, list_page};

/// A substance with the reference values in force on `effective_from`'s version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubstanceView {
    #[schema(value_type = i64)]
    pub id: SubstanceId,
    pub inn: String,
    /// In the INCB opioid-analgesic basket: its S-DDDs count in the availability total and
    /// its band.
    pub in_sddd_basket: bool,
    pub convention: Option<Convention>,
    pub schedule: Option<Schedule>,
    /// Defined daily dose for statistical purposes, mg of base; `null` when not configured.
    pub sddd_mg: Option<Decimal>,
    pub sddd_status: Option<String>,
    /// Oral morphine mg per mg of base.
    pub me_factor: Option<Decimal>,
    pub me_source: Option<String>,
    /// Patient-level MME per day per mcg/h of a transdermal product.
    pub transdermal_mme_per_mcg_h: Option<Decimal>,
    pub reference_salt: Option<String>,
    pub salt_base_factor: Option<Decimal>,
    pub notes: Option<String>,
    /// Where the values of this version come from.
    pub source: Option<String>,
    pub effective_from: Option<NaiveDate>,
    /// Id of the reference-value version shown.
    #[schema(value_type = Option<i64>)]
    pub version_id: Option<SubstanceReferenceValueId>,
}

impl SubstanceView {
    pub fn new(s: Substance, v: Option<ReferenceValues>) -> Self {
        SubstanceView {
            id: s.id,
            inn: s.inn,
            in_sddd_basket: s.in_sddd_basket,
            convention: v.as_ref().map(|v| v.convention),
            schedule: v.as_ref().and_then(|v| v.schedule),
            sddd_mg: v.as_ref().and_then(|v| v.sddd_mg.clone()).map(Decimal::from),
            sddd_status: v.as_ref().map(|v| v.sddd_status.clone()),
            me_factor: v.as_ref().and_then(|v| v.me_factor.clone()).map(Decimal::from),
            me_source: v.as_ref().and_then(|v| v.me_source.clone()),
            transdermal_mme_per_mcg_h: v.as_ref().and_then(|v| v.transdermal_mme_per_mcg_h.clone()).map(Decimal::from),
            reference_salt: v.as_ref().and_then(|v| v.reference_salt.clone()),
            salt_base_factor: v.as_ref().and_then(|v| v.salt_base_factor.clone()).map(Decimal::from),
            notes: v.as_ref().and_then(|v| v.notes.clone()),
            source: v.as_ref().map(|v| v.source.clone()),
            effective_from: v.as_ref().map(|v| v.effective_from),
            version_id: v.map(|v| v.id),
        }
    }
}

envelope!(SubstanceEnvelope, substance, SubstanceView);
list_page!(SubstanceList, substances, SubstanceView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubstanceQuery {
    /// Show the values in force on this date (default: today).
    pub as_of: Option<NaiveDate>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

/// The reference values of a new substance or of a new version. On `PATCH`, fields left
/// out keep their current value; a field sent as `null` is cleared.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstanceRequest {
    /// International non-proprietary name, lower case (create only).
    #[schema(min_length = 2, max_length = 100)]
    #[validate(length(min = 2, max = 100), custom(function = "crate::views::text::single_line"))]
    pub inn: Option<String>,
    /// Date the values take effect (default: today).
    pub effective_from: Option<NaiveDate>,
    pub convention: Option<Convention>,
    #[serde(default, deserialize_with = "present")]
    pub schedule: Option<Option<Schedule>>,
    #[serde(default, deserialize_with = "present")]
    pub sddd_mg: Option<Option<Decimal>>,
    #[schema(min_length = 1, max_length = 500)]
    #[validate(length(min = 1, max = 500), custom(function = "crate::views::text::single_line"))]
    pub sddd_status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub me_factor: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "crate::views::text::free_text"))]
    pub me_source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub transdermal_mme_per_mcg_h: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "crate::views::text::single_line"))]
    pub reference_salt: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub salt_base_factor: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "crate::views::text::free_text"))]
    pub notes: Option<Option<String>>,
    /// In the INCB opioid-analgesic basket (create: default `false`; update: left out keeps it).
    pub in_sddd_basket: Option<bool>,
    /// Where the values come from (a publication, a decision): required.
    #[schema(min_length = 3, max_length = 500)]
    #[validate(length(min = 3, max = 500), custom(function = "crate::views::text::free_text"))]
    pub source: String,
}

/// Distinguishes a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    #[schema(value_type = i64)]
    pub id: ProductId,
    pub name: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    /// Anhydrous base in one unit, mg (exact).
    pub base_mg_per_unit: Decimal,
    pub dosage_form: DosageForm,
    pub unit: Unit,
    /// Delivery rate of a transdermal patch.
    pub delivery_mcg_per_hour: Option<Decimal>,
    /// Labelled strength of one unit: mg of `strength_salt` (what the CDC MME factors apply
    /// to); `null` when unknown.
    pub strength_mg_per_unit: Option<Decimal>,
    /// The salt or ester named on the label, or `base`; `null` when unknown.
    pub strength_salt: Option<String>,
    /// No labelled strength is known: the product's dispensings get no daily MME.
    pub strength_unknown: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        ProductView {
            id: p.id,
            name: p.name,
            substance_id: p.substance_id,
            base_mg_per_unit: p.base_mg_per_unit.into(),
            dosage_form: p.dosage_form,
            unit: p.unit,
            delivery_mcg_per_hour: p.delivery_mcg_per_hour.map(Decimal::from),
            strength_unknown: p.strength_mg_per_unit.is_none(),
            strength_mg_per_unit: p.strength_mg_per_unit.map(Decimal::from),
            strength_salt: p.strength_salt,
            created_at: p.created_at,
        }
    }
}

envelope!(ProductEnvelope, product, ProductView);
list_page!(ProductList, products, ProductView);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductRequest {
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub name: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    /// Anhydrous base in one unit, mg; up to 6 decimals.
    pub base_mg_per_unit: Decimal,
    pub dosage_form: DosageForm,
    pub unit: Unit,
    /// Required for `transdermal_patch`, refused for other forms.
    pub delivery_mcg_per_hour: Option<Decimal>,
    /// Labelled strength of one unit, mg of `strength_salt` ("morphine sulfate 10 mg": 10);
    /// up to 6 decimals. Left out (with `strength_salt`), the product is `strength_unknown`
    /// and its dispensings get no daily MME.
    pub strength_mg_per_unit: Option<Decimal>,
    /// The salt or ester named on the label ("morphine sulfate"), or `base`; required with
    /// `strength_mg_per_unit`.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub strength_salt: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    #[param(value_type = Option<i64>)]
    pub substance_id: Option<SubstanceId>,
    /// `true`: only the products whose labelled strength is unknown (no daily MME for their
    /// dispensings); `false`: only those whose strength is known.
    pub strength_unknown: Option<bool>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryView {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    pub iso3: String,
    pub name: String,
    pub population: i64,
    pub population_date: NaiveDate,
    pub population_source: String,
    /// The tz-database zone whose local midnight cuts the country's days and months
    /// (monthly figures, reporting periods, "today", daily scans).
    pub time_zone: String,
}

impl From<Country> for CountryView {
    fn from(c: Country) -> Self {
        CountryView {
            code: c.code,
            iso3: c.iso3,
            name: c.name,
            population: c.population,
            population_date: c.population_date,
            population_source: c.population_source,
            time_zone: c.time_zone,
        }
    }
}

list_page!(CountryList, countries, CountryView);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationGroupView {
    pub sex: Sex,
    pub age_band: AgeBand,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationView {
    pub year: i32,
    pub total: i64,
    pub source: Option<String>,
    pub by_sex_age: Vec<PopulationGroupView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionView {
    #[schema(value_type = i64)]
    pub id: RegionId,
    pub country_code: String,
    pub name: String,
    pub code: Option<String>,
    pub populations: Vec<PopulationView>,
}

impl RegionView {
    pub fn new(r: Region, populations: Vec<PopulationView>) -> Self {
        RegionView { id: r.id, country_code: r.country_code, name: r.name, code: r.code, populations }
    }
}

envelope!(RegionEnvelope, region, RegionView);
list_page!(RegionList, regions, RegionView);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegionRequest {
    #[validate(custom(function = "crate::views::text::single_line"))]
    pub country_code: String,
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub name: String,
    #[schema(min_length = 1, max_length = 32)]
    #[validate(length(min = 1, max = 32), custom(function = "crate::views::text::single_line"))]
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationGroupRequest {
    pub sex: Sex,
    pub age_band: AgeBand,
    #[schema(minimum = 0, maximum = 10000000000.0)]
    #[validate(range(min = 0, max = 10_000_000_000i64))]
    pub count: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationRequest {
    #[schema(minimum = 1900, maximum = 2200)]
    #[validate(range(min = 1900, max = 2200))]
    pub year: i32,
    #[schema(minimum = 1, maximum = 10000000000.0)]
    #[validate(range(min = 1, max = 10_000_000_000i64))]
    pub total: i64,
    /// Optional breakdown; when given it must cover each sex and age band once and add up
    /// to `total`.
    #[validate(nested)]
    pub by_sex_age: Option<Vec<PopulationGroupRequest>>,
    #[schema(min_length = 1, max_length = 500)]
    #[validate(length(min = 1, max = 500), custom(function = "crate::views::text::free_text"))]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacilityView {
    #[schema(value_type = i64)]
    pub id: FacilityId,
    pub country_code: String,
    #[schema(value_type = i64)]
    pub region_id: RegionId,
    pub name: String,
    pub kind: FacilityKind,
    pub licence_number: String,
    pub licence_valid_until: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Facility> for FacilityView {
    fn from(f: Facility) -> Self {
        FacilityView {
            id: f.id,
            country_code: f.country_code,
            region_id: f.region_id,
            name: f.name,
            kind: f.kind,
            licence_number: f.licence_number,
            licence_valid_until: f.licence_valid_until,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

envelope!(FacilityEnvelope, facility, FacilityView);
list_page!(FacilityList, facilities, FacilityView);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFacilityRequest {
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub name: String,
    pub kind: FacilityKind,
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub licence_number: String,
    pub licence_valid_until: NaiveDate,
    #[schema(value_type = i64)]
    pub region_id: RegionId,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityPatchRequest {
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub licence_number: Option<String>,
    pub licence_valid_until: Option<NaiveDate>,
    #[schema(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FacilityQuery {
    /// Admin only: the country to list (others see their own).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub region_id: Option<RegionId>,
    pub kind: Option<FacilityKind>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}
