//! `dispensings`: opioids handed to patients, one row per record; each is also the ledger's
//! `dispense` entry. Written in bulk by `app::dispensing::record_batch`.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::{AgeBand, Indication, PatientSex};
use crate::db::schema::dispensings;
use crate::domain::ids::{FacilityId, LedgerEntryId, ProductId, RegionId, SubstanceId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispensings)]
pub struct Dispensing {
    pub id: LedgerEntryId,
    pub country_code: String,
    pub facility_id: FacilityId,
    pub region_id: RegionId,
    pub product_id: ProductId,
    pub substance_id: SubstanceId,
    pub client_record_id: String,
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub patient_pseudonym: Vec<u8>,
    pub patient_sex: PatientSex,
    pub patient_age_band: AgeBand,
    pub prescriber_id: String,
    pub prescription_number: String,
    pub days_supply: i32,
    pub indication: Indication,
    pub daily_mme: Option<BigDecimal>,
}

/// Batches of up to this many rows are written with `INSERT`, larger ones with `COPY`.
const INSERT_AT_MOST: usize = 64;

/// A dispensing row with its id allocated up front (large batches are written with COPY).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = dispensings, treat_none_as_default_value = false)]
pub struct NewDispensing {
    pub id: LedgerEntryId,
    pub country_code: String,
    pub facility_id: FacilityId,
    pub region_id: RegionId,
    pub product_id: ProductId,
    pub substance_id: SubstanceId,
    pub client_record_id: String,
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub patient_pseudonym: Vec<u8>,
    pub patient_sex: PatientSex,
    pub patient_age_band: AgeBand,
    pub prescriber_id: String,
    pub prescription_number: String,
    pub days_supply: i32,
    pub indication: Indication,
    pub daily_mme: Option<BigDecimal>,
}

/// What a replay compares: a stored record under the same client record id.
#[derive(Debug, Clone, Queryable)]
pub struct StoredRecord {
    pub id: LedgerEntryId,
    pub client_record_id: String,
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub dispensed_at: DateTime<Utc>,
    pub patient_pseudonym: Vec<u8>,
    pub prescription_number: String,
}

/// Filters of a dispensing listing.
#[derive(Debug, Clone, Default)]
pub struct DispensingFilter {
    pub country_code: Option<String>,
    pub facility_id: Option<FacilityId>,
    pub product_id: Option<ProductId>,
    pub prescriber_id: Option<String>,
    pub patient_pseudonym: Option<Vec<u8>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Dispensing {
    pub fn find(conn: &mut PgConnection, id: LedgerEntryId) -> QueryResult<Option<Dispensing>> {
        dispensings::table.find(id).select(Dispensing::as_select()).first(conn).optional()
    }

    /// Allocates `n` ledger entry ids in one round trip.
    pub fn allocate_ids(conn: &mut PgConnection, n: usize) -> QueryResult<Vec<LedgerEntryId>> {
        #[derive(QueryableByName)]
        struct Allocated {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: LedgerEntryId,
        }
        let rows: Vec<Allocated> = diesel::sql_query("SELECT nextval('ledger_entry_id_seq') AS id FROM generate_series(1, $1)")
            .bind::<diesel::sql_types::BigInt, _>(n as i64)
            .load(conn)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Writes rows: a small batch with one `INSERT` (one round trip), a larger one with
    /// `COPY ... FROM STDIN (FORMAT binary)` (faster per row, but two round trips).
    pub fn insert_all(conn: &mut PgConnection, rows: Vec<NewDispensing>) -> QueryResult<usize> {
        match rows.len() {
            0 => Ok(0),
            n if n <= INSERT_AT_MOST => diesel::insert_into(dispensings::table).values(&rows).execute(conn),
            _ => diesel::copy_from(dispensings::table).from_insertable(&rows).execute(conn),
        }
    }

    /// Records of a facility already stored under any of `client_record_ids`.
    pub fn stored_records(conn: &mut PgConnection, facility_id: FacilityId, client_record_ids: &[String]) -> QueryResult<Vec<StoredRecord>> {
        dispensings::table
            .filter(dispensings::facility_id.eq(facility_id))
            .filter(dispensings::client_record_id.eq_any(client_record_ids))
            .select((
                dispensings::id,
                dispensings::client_record_id,
                dispensings::product_id,
                dispensings::quantity_units,
                dispensings::dispensed_at,
                dispensings::patient_pseudonym,
                dispensings::prescription_number,
            ))
            .load(conn)
    }

    /// Dispensings of a facility in `[from, to)`.
    pub fn count_in(conn: &mut PgConnection, facility_id: FacilityId, from: DateTime<Utc>, to: DateTime<Utc>) -> QueryResult<i64> {
        dispensings::table
            .filter(dispensings::facility_id.eq(facility_id))
            .filter(dispensings::dispensed_at.ge(from))
            .filter(dispensings::dispensed_at.lt(to))
            .count()
            .get_result(conn)
    }

    pub fn page(conn: &mut PgConnection, filter: &DispensingFilter, offset: i64, limit: i64) -> QueryResult<(Vec<Dispensing>, i64)> {
        let build = || {
            let mut q = dispensings::table.into_boxed();
            if let Some(c) = &filter.country_code {
                q = q.filter(dispensings::country_code.eq(c.clone()));
            }
            if let Some(f) = filter.facility_id {
                q = q.filter(dispensings::facility_id.eq(f));
            }
            if let Some(p) = filter.product_id {
                q = q.filter(dispensings::product_id.eq(p));
            }
            if let Some(p) = &filter.prescriber_id {
                q = q.filter(dispensings::prescriber_id.eq(p.clone()));
            }
            if let Some(p) = &filter.patient_pseudonym {
                q = q.filter(dispensings::patient_pseudonym.eq(p.clone()));
            }
            if let Some(from) = filter.from {
                q = q.filter(dispensings::dispensed_at.ge(from));
            }
            if let Some(to) = filter.to {
                q = q.filter(dispensings::dispensed_at.lt(to));
            }
            q
        };
        let total = build().count().get_result(conn)?;
        let rows = build()
            .order((dispensings::dispensed_at.desc(), dispensings::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(Dispensing::as_select())
            .load(conn)?;
        Ok((rows, total))
    }
}
