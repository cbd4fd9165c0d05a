//! Dispensing on the wire: the batch request, its per-record outcomes, listings and
//! reporting periods.
//!
//! A record's `patient_id` (the national identifier) is turned into its pseudonym as soon as
//! the record is parsed and then dropped: no type here that holds it derives `Debug`, and
//! error messages about it never repeat its value.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::dispensing::reporting_status::FacilityPeriod;
use crate::app::dispensing::{ParsedRecord, RecordOutcome, RecordStatus, ValidRecord};
use crate::app::error::{DomainError, FieldError};
use crate::db::enums::{AgeBand, Indication, PatientSex, PeriodStatus};
use crate::db::models::dispensing::Dispensing;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{FacilityId, LedgerEntryId, ProductId, RegionId};
use crate::domain::ledger::check_business_time;
use crate::domain::pseudonym::pseudonym;
use crate::extract::{field_errors, parse_json};
use crate::views::list_page;

pub const MAX_RECORDS: usize = 10_000;

/// `{"records": [...]}`: 1 to 10 000 dispensing records of one facility.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispensingBatchRequest {
    /// Each record is parsed on its own, so one bad record never blocks the others.
    #[schema(value_type = Vec<DispensingRecordRequest>, min_items = 1, max_items = 10000)]
    #[validate(length(min = 1, max = 10000, message = "must hold 1 to 10000 records"))]
    pub records: Vec<Box<RawValue>>,
}

/// One dispensing to a patient.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispensingRecordRequest {
    /// The client's id of the record, unique per facility: sending it again replays it.
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub client_record_id: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(minimum = 1, maximum = 1000000)]
    #[validate(range(min = 1, max = 1_000_000))]
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    /// The national identifier; the server keeps only its keyed pseudonym.
    pub patient_id: String,
    pub patient_sex: PatientSex,
    /// Age in whole years; stored as an age band.
    #[schema(minimum = 0, maximum = 130)]
    #[validate(range(min = 0, max = 130))]
    pub patient_age: i32,
    /// Prescriber licence id.
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub prescriber_id: String,
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub prescription_number: String,
    #[schema(minimum = 1, maximum = 365)]
    #[validate(range(min = 1, max = 365))]
    pub days_supply: i32,
    pub indication: Indication,
}

/// Why one record was rejected.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordProblem {
    pub code: crate::app::error::ProblemCode,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl RecordProblem {
    /// A problem of record `index`, its pointers placed under `/records/<index>`.
    pub fn of(index: usize, problem: DomainError) -> Self {
        let prefix = format!("/records/{index}");
        RecordProblem {
            code: problem.code,
            detail: problem.detail,
            errors: problem.errors.into_iter().map(|e| e.under(&prefix)).collect(),
            extensions: problem.extensions,
        }
    }
}

const PATIENT_ID_RULE: &str = "must be the national identifier: 1 to 64 letters and digits (spaces and dashes are ignored)";

/// Never repeats what the client sent as `patient_id`.
fn scrub(mut problem: DomainError) -> DomainError {
    if problem.errors.iter().any(|e| e.pointer.as_deref().is_some_and(|p| p.ends_with("/patient_id"))) {
        for e in &mut problem.errors {
            if e.pointer.as_deref().is_some_and(|p| p.ends_with("/patient_id")) {
                e.detail = PATIENT_ID_RULE.to_owned();
            }
        }
        problem.detail = format!("/patient_id: {PATIENT_ID_RULE}");
    }
    problem
}

/// Parses and checks one record; the identifier becomes a pseudonym under `key`.
pub fn parse_record(index: usize, raw: &RawValue, key: &[u8], country: &str, now: DateTime<Utc>, backdate_days: i64) -> ParsedRecord {
    let invalid = |problem: DomainError| ParsedRecord::Invalid { index, error: scrub(problem) };
    let request: DispensingRecordRequest = match parse_json(raw.get().as_bytes()) {
        Ok(r) => r,
        Err(p) => return invalid(p),
    };
    let mut errors = match request.validate() {
        Ok(()) => Vec::new(),
        Err(e) => field_errors("", &e),
    };
    if let Err(message) = check_business_time(now, request.dispensed_at, backdate_days) {
        errors.push(FieldError::at("/dispensed_at", message));
    }
    let pseudonym = pseudonym(key, country, &request.patient_id);
    if pseudonym.is_none() {
        errors.push(FieldError::at("/patient_id", PATIENT_ID_RULE));
    }
    match pseudonym {
        Some(patient_pseudonym) if errors.is_empty() => ParsedRecord::Valid(ValidRecord {
            index,
            client_record_id: request.client_record_id,
            product_id: request.product_id,
            quantity_units: request.quantity_units,
            // PostgreSQL keeps microseconds: compare replays at the precision stored.
            dispensed_at: chrono::SubsecRound::trunc_subsecs(request.dispensed_at, 6),
            patient_pseudonym,
            patient_sex: request.patient_sex,
            patient_age_band: AgeBand::of_age(request.patient_age.max(0) as u32),
            prescriber_id: request.prescriber_id,
            prescription_number: request.prescription_number,
            days_supply: request.days_supply,
            indication: request.indication,
        }),
        _ => invalid(DomainError::validation(errors)),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordResult {
    /// Position of the record in the request.
    pub index: usize,
    pub status: RecordStatus,
    /// The dispensing's id (accepted or replayed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub id: Option<LedgerEntryId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<RecordProblem>,
}

impl From<RecordOutcome> for RecordResult {
    fn from(r: RecordOutcome) -> Self {
        RecordResult { index: r.index, status: r.status, id: r.id, problem: r.error.map(|e| RecordProblem::of(r.index, e)) }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DispensingBatchResponse {
    pub accepted: usize,
    pub replayed: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DispensingView {
    #[schema(value_type = i64)]
    pub id: LedgerEntryId,
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    pub client_record_id: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Keyed pseudonym of the patient (hex); the same person has the same pseudonym in
    /// every pharmacy of the country.
    pub patient_pseudonym: String,
    pub patient_sex: PatientSex,
    pub patient_age_band: AgeBand,
    pub prescriber_id: String,
    pub prescription_number: String,
    pub days_supply: i32,
    pub indication: Indication,
    /// Patient-level morphine milligram equivalents per day; `null` without a factor.
    pub daily_mme: Option<Decimal>,
}

impl From<Dispensing> for DispensingView {
    fn from(d: Dispensing) -> Self {
        DispensingView {
            id: d.id,
            facility_id: d.facility_id,
            client_record_id: d.client_record_id,
            product_id: d.product_id,
            quantity_units: d.quantity_units,
            dispensed_at: d.dispensed_at,
            recorded_at: d.recorded_at,
            patient_pseudonym: hex::encode(d.patient_pseudonym),
            patient_sex: d.patient_sex,
            patient_age_band: d.patient_age_band,
            prescriber_id: d.prescriber_id,
            prescription_number: d.prescription_number,
            days_supply: d.days_supply,
            indication: d.indication,
            daily_mme: d.daily_mme.map(Decimal::from),
        }
    }
}

list_page!(DispensingList, dispensings, DispensingView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FacilityDispensingQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[param(value_type = Option<i64>)]
    pub product_id: Option<ProductId>,
    pub prescriber_id: Option<String>,
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
pub struct CountryDispensingQuery {
    /// Admin only (regulators search their own country).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    /// Hex pseudonym of a patient.
    #[validate(length(equal = 64))]
    pub patient_pseudonym: Option<String>,
    pub prescriber_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosePeriodRequest {
    /// `true`: nothing was dispensed this month. Required when there are no records.
    pub zero_report: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingPeriodView {
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    /// `YYYY-MM`.
    pub period: String,
    pub status: PeriodStatus,
    pub zero_report: Option<bool>,
    pub dispensing_count: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The last day to close the period before it is late.
    pub due_by: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingPeriodEnvelope {
    pub reporting_period: ReportingPeriodView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacilityPeriodView {
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    pub facility_name: String,
    #[schema(value_type = i64)]
    pub region_id: RegionId,
    pub status: PeriodStatus,
    pub zero_report: Option<bool>,
    pub dispensing_count: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<FacilityPeriod> for FacilityPeriodView {
    fn from(p: FacilityPeriod) -> Self {
        FacilityPeriodView {
            facility_id: p.facility_id,
            facility_name: p.facility_name,
            region_id: p.region_id,
            status: p.status,
            zero_report: p.zero_report,
            dispensing_count: p.dispensing_count,
            closed_at: p.closed_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingPeriodList {
    pub country_code: String,
    /// `YYYY-MM`.
    pub period: String,
    pub due_by: NaiveDate,
    pub facilities: Vec<FacilityPeriodView>,
    pub meta: crate::views::ListMeta,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportingPeriodQuery {
    /// Admin only (others see their country).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    /// `YYYY-MM`.
    pub period: String,
    pub status: Option<PeriodStatus>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}
