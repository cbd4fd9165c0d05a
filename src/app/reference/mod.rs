//! Reference data: regions and their population, facilities and their licences, substances
//! with their versioned reference values, products, and the bands and parameters behind the
//! analytics.

pub mod create_facility;
pub mod create_product;
pub mod create_region;
pub mod create_substance;
pub mod put_region_population;
pub mod replace_adequacy_bands;
pub mod update_analytics_parameter;
pub mod update_facility;
pub mod update_substance;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::app::error::{AppResult, DomainError, FieldError};
use crate::db::enums::{Convention, Schedule};
use crate::db::models::substance::{NewReferenceValues, ReferenceValues, Substance};
use crate::db::schema::adequacy_bands as b;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{SubstanceId, UserId};

/// The reference values of a new substance or of a new version: a field left out (`None`)
/// keeps the value of the version it is based on, `Some(None)` clears it.
#[derive(Debug, Clone)]
pub struct SubstanceValues {
    /// The day the values take effect (default: today).
    pub effective_from: Option<NaiveDate>,
    pub convention: Option<Convention>,
    pub schedule: Option<Option<Schedule>>,
    pub sddd_mg: Option<Option<Decimal>>,
    pub sddd_status: Option<String>,
    pub me_factor: Option<Option<Decimal>>,
    pub me_source: Option<Option<String>>,
    pub transdermal_mme_per_mcg_h: Option<Option<Decimal>>,
    pub reference_salt: Option<Option<String>>,
    pub salt_base_factor: Option<Option<Decimal>>,
    pub notes: Option<Option<String>>,
    /// Puts the substance in or out of the INCB opioid-analgesic basket (not versioned: a
    /// property of the substance; the audit log keeps the change). Left out: unchanged (a
    /// new substance: out).
    pub in_sddd_basket: Option<bool>,
    /// Where the values come from.
    pub source: String,
}

/// A substance with the version of its reference values just recorded.
#[derive(Debug)]
pub struct SubstanceVersion {
    pub substance: Substance,
    pub values: ReferenceValues,
}

fn positive(pointer: &str, value: &Option<Decimal>, max_fraction_digits: i64, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        if v.0 <= 0 {
            errors.push(FieldError::at(pointer, "must be greater than 0"));
        } else if !v.fits(18, max_fraction_digits) {
            errors.push(FieldError::at(
                pointer,
                format!("at most {} digits before the point and {max_fraction_digits} decimals", 18 - max_fraction_digits),
            ));
        }
    }
}

/// Merges `values` onto `base` (the version in force, if any) into a new version; refused
/// with `validation_failed` naming each bad field.
fn new_version(
    substance_id: SubstanceId,
    base: Option<ReferenceValues>,
    values: SubstanceValues,
    recorded_by: Option<UserId>,
) -> AppResult<NewReferenceValues> {
    let today = chrono::Utc::now().date_naive();
    let base = base.map(NewReferenceValues::from);
    let pick = |new: Option<Option<Decimal>>, old: Option<BigDecimal>| match new {
        Some(v) => v.map(Decimal::into_inner),
        None => old,
    };
    let mut errors = Vec::new();
    positive("/sddd_mg", &values.sddd_mg.clone().flatten(), 6, &mut errors);
    positive("/me_factor", &values.me_factor.clone().flatten(), 6, &mut errors);
    positive("/transdermal_mme_per_mcg_h", &values.transdermal_mme_per_mcg_h.clone().flatten(), 6, &mut errors);
    positive("/salt_base_factor", &values.salt_base_factor.clone().flatten(), 6, &mut errors);
    if let Some(Some(f)) = &values.salt_base_factor
        && f.0 > 1
    {
        errors.push(FieldError::at("/salt_base_factor", "must not exceed 1"));
    }
    let convention = values.convention.or(base.as_ref().map(|b| b.convention));
    if convention.is_none() {
        errors.push(FieldError::at("/convention", "is required"));
    }
    let sddd_status = values.sddd_status.clone().or(base.as_ref().map(|b| b.sddd_status.clone()));
    if sddd_status.is_none() {
        errors.push(FieldError::at("/sddd_status", "is required"));
    }
    if !errors.is_empty() {
        return Err(DomainError::validation(errors).into());
    }
    let b = base.unwrap_or(NewReferenceValues {
        substance_id,
        effective_from: today,
        convention: Convention::NotControlled,
        schedule: None,
        sddd_mg: None,
        sddd_status: String::new(),
        me_factor: None,
        me_source: None,
        transdermal_mme_per_mcg_h: None,
        reference_salt: None,
        salt_base_factor: None,
        notes: None,
        source: String::new(),
        recorded_by: None,
    });
    Ok(NewReferenceValues {
        substance_id,
        effective_from: values.effective_from.unwrap_or(today),
        convention: convention.unwrap_or(b.convention),
        schedule: values.schedule.unwrap_or(b.schedule),
        sddd_mg: pick(values.sddd_mg, b.sddd_mg),
        sddd_status: sddd_status.unwrap_or_default(),
        me_factor: pick(values.me_factor, b.me_factor),
        me_source: values.me_source.unwrap_or(b.me_source),
        transdermal_mme_per_mcg_h: pick(values.transdermal_mme_per_mcg_h, b.transdermal_mme_per_mcg_h),
        reference_salt: values.reference_salt.unwrap_or(b.reference_salt),
        salt_base_factor: pick(values.salt_base_factor, b.salt_base_factor),
        notes: values.notes.unwrap_or(b.notes),
        source: values.source,
        recorded_by,
    })
}

/// A band of S-DDD per million inhabitants per day (`adequacy_bands`); serialized as the
/// audit log keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct AdequacyBand {
    pub code: String,
    pub label: String,
    /// Inclusive lower bound.
    pub min_sddd: Decimal,
    /// Exclusive upper bound; `None` for the top band.
    pub max_sddd: Option<Decimal>,
    /// Areas in this band are raised as `very_low_availability` findings.
    pub is_finding: bool,
    pub source: String,
}

type BandRow = (String, String, BigDecimal, Option<BigDecimal>, bool, String);

impl AdequacyBand {
    /// Every band, from the lowest.
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<AdequacyBand>> {
        let rows: Vec<BandRow> =
            b::table.order(b::min_sddd).select((b::code, b::label, b::min_sddd, b::max_sddd, b::is_finding, b::source)).load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(code, label, min, max, is_finding, source)| AdequacyBand {
                code,
                label,
                min_sddd: min.into(),
                max_sddd: max.map(Decimal::from),
                is_finding,
                source,
            })
            .collect())
    }
}
