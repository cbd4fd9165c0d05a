//! Dispensing to patients: batches of records and the monthly reporting periods (closing
//! them, and where each facility stands).

pub mod close_reporting_period;
pub mod record_batch;
pub mod reporting_status;

use chrono::{DateTime, Utc};

use crate::app::error::DomainError;
use crate::db::enums::{AgeBand, Indication, PatientSex};
use crate::domain::ids::{LedgerEntryId, ProductId};
use crate::domain::pseudonym::PSEUDONYM_BYTES;

/// A record that passed every check that needs no database.
#[derive(Clone)]
pub struct ValidRecord {
    pub index: usize,
    pub client_record_id: String,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    pub patient_pseudonym: [u8; PSEUDONYM_BYTES],
    pub patient_sex: PatientSex,
    pub patient_age_band: AgeBand,
    pub prescriber_id: String,
    pub prescription_number: String,
    pub days_supply: i32,
    pub indication: Indication,
}

/// A record as parsed: valid, or rejected with its error (pointers relative to the record).
pub enum ParsedRecord {
    Valid(ValidRecord),
    Invalid { index: usize, error: DomainError },
}

crate::string_enum! {
    /// One record's outcome in a batch.
    RecordStatus {
        Accepted => "accepted",
        Replayed => "replayed",
        Rejected => "rejected",
    }
}

/// One record's outcome in a batch; `error` (pointers relative to the record) when rejected.
#[derive(Debug, Clone)]
pub struct RecordOutcome {
    /// Position of the record in the request.
    pub index: usize,
    pub status: RecordStatus,
    /// The dispensing's id (accepted or replayed).
    pub id: Option<LedgerEntryId>,
    pub error: Option<DomainError>,
}
