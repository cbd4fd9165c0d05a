//! A pharmacy records a batch of dispensings: one transaction per batch, never row by row.
//!
//! Under a per-facility lock ([`open`] reads the facility and takes it in one statement):
//! replays are found by `client_record_id`, records are checked against products, closed
//! periods and the licence, the balances of every product in the batch are locked, and the
//! records are placed on each product's timeline in time order (so the never-negative rule
//! holds within the batch too). Accepted records are written with one `INSERT` (binary
//! `COPY` for a large batch), refusals for want of stock are handed to the write frame as
//! evidence, and each record gets its own outcome.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use crate::app::dispensing::{ParsedRecord, RecordOutcome, RecordStatus, ValidRecord};
use crate::app::error::{AppResult, DomainError, FieldError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome, Refusal};
use crate::app::policy;
use crate::app::stock::insufficient_stock;
use crate::db::enums::StockEventKind;
use crate::db::enums::{AuditAction, ResourceType};
use crate::db::ledger::timeline;
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::dispensing::{Dispensing, NewDispensing};
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::reporting_period::ReportingPeriod;
use crate::db::models::stock_balance::StockBalance;
use crate::db::models::substance::ReferenceValues;
use crate::db::rollups::{self, Movement, PatientGroup};
use crate::domain::ids::{FacilityId, LedgerEntryId, ProductId, SubstanceId};
use crate::domain::ledger::Timeline;
use crate::domain::mme::{MmeFactors, daily_mme, in_force_on};
use crate::domain::period::{Month, local_day};

/// Where the dispensing locks' keys start: a facility's key is this plus its id (see
/// [`lock_key`]).
const BATCH_LOCK_BASE: i64 = 1 << 32;

/// The outcome of every record of a batch, in request order.
#[derive(Debug)]
pub struct BatchOutcome {
    pub results: Vec<RecordOutcome>,
    pub accepted_ids: Vec<LedgerEntryId>,
}

impl BatchOutcome {
    pub fn count(&self, status: RecordStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

fn rejected(index: usize, error: DomainError) -> RecordOutcome {
    RecordOutcome { index, status: RecordStatus::Rejected, id: None, error: Some(error) }
}

fn same_record(a: &ValidRecord, stored: &crate::db::models::dispensing::StoredRecord) -> bool {
    a.product_id == stored.product_id
        && a.quantity_units == stored.quantity_units
        && a.dispensed_at == stored.dispensed_at
        && a.patient_pseudonym.as_slice() == stored.patient_pseudonym.as_slice()
        && a.prescription_number == stored.prescription_number
}

fn same_request(a: &ValidRecord, b: &ValidRecord) -> bool {
    a.product_id == b.product_id
        && a.quantity_units == b.quantity_units
        && a.dispensed_at == b.dispensed_at
        && a.patient_pseudonym == b.patient_pseudonym
        && a.prescription_number == b.prescription_number
}

fn reused_id(index: usize) -> RecordOutcome {
    rejected(
        index,
        DomainError::new(ProblemCode::ClientRecordIdReused, "this client_record_id belongs to a different record")
            .with_error(FieldError::at("/client_record_id", "already used for another record of this facility")),
    )
}

/// 403 unless `actor` reports for `facility`; 422 unless it dispenses to patients.
pub fn admit(actor: &Actor, facility: &Facility) -> Result<(), DomainError> {
    policy::check_reports_for(actor, facility.id)?;
    if !facility.kind.is_retail() {
        return Err(DomainError::new(ProblemCode::NotADispensingFacility, "only pharmacies and hospital pharmacies dispense to patients"));
    }
    Ok(())
}

/// The key of a facility's dispensing lock: the whole id, moved past the 32-bit range by a
/// wrapping add (a bijection, so no two facilities share a key) where the other
/// single-key advisory locks live (`hashtext(..)` keys: scans, authorization numbers).
pub fn lock_key(facility_id: FacilityId) -> i64 {
    BATCH_LOCK_BASE.wrapping_add(facility_id.get())
}

/// Takes, until the transaction ends, the facility's dispensing lock: batches of one facility
/// run one at a time, and a month is never closed while a batch that may land in it runs
/// (`close_reporting_period` takes it too). The bigint form of the lock, keyed by [`lock_key`].
pub fn lock_facility(conn: &mut PgConnection, facility_id: FacilityId) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<diesel::sql_types::BigInt, _>(lock_key(facility_id)).execute(conn)?;
    Ok(())
}

/// A facility whose dispensing lock ([`lock_facility`]) the transaction holds: what
/// [`execute`] takes, so a batch cannot be written without it.
#[derive(Debug, Clone)]
pub struct LockedFacility(Facility);

impl std::ops::Deref for LockedFacility {
    type Target = Facility;

    fn deref(&self) -> &Facility {
        &self.0
    }
}

/// Reads the facility and takes its dispensing lock in one statement (one round trip on the
/// hot path of a single-record POST); 404, and no lock, when there is no such facility.
pub fn open(conn: &mut PgConnection, facility_id: FacilityId) -> AppResult<LockedFacility> {
    use crate::db::schema::facilities;
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool};
    let lock = sql::<Bool>("pg_advisory_xact_lock(").bind::<BigInt, _>(lock_key(facility_id)).sql(") IS NULL");
    let row: Option<(Facility, bool)> = facilities::table.find(facility_id).select((Facility::as_select(), lock)).first(conn).optional()?;
    row.map(|(facility, _)| LockedFacility(facility)).ok_or_else(|| DomainError::not_found("facility").into())
}

/// Records `records` for `facility` (one `admit` let through), under its lock ([`open`]).
pub fn execute(conn: &mut PgConnection, actor: &Actor, facility: &LockedFacility, records: Vec<ParsedRecord>) -> AppResult<Outcome<BatchOutcome>> {
    let facility: &Facility = facility;
    let n = records.len();
    let mut results: Vec<Option<RecordOutcome>> = vec![None; n];

    let mut valid: Vec<ValidRecord> = Vec::with_capacity(n);
    for record in records {
        match record {
            ParsedRecord::Valid(v) => valid.push(v),
            ParsedRecord::Invalid { index, error } => results[index] = Some(rejected(index, error)),
        }
    }

    // Records sent before: replayed when identical, refused when the id was reused.
    let ids: Vec<String> = valid.iter().map(|v| v.client_record_id.clone()).collect();
    let stored: HashMap<String, _> =
        Dispensing::stored_records(conn, facility.id, &ids)?.into_iter().map(|s| (s.client_record_id.clone(), s)).collect();
    // A record repeated inside the batch shares the outcome of its first occurrence.
    let mut first_in_batch: HashMap<String, usize> = HashMap::new();
    let mut repeat_matches: Vec<(usize, usize, bool)> = Vec::new();
    let mut candidates: Vec<ValidRecord> = Vec::with_capacity(valid.len());
    for v in valid {
        if let Some(s) = stored.get(&v.client_record_id) {
            results[v.index] = Some(if same_record(&v, s) {
                RecordOutcome { index: v.index, status: RecordStatus::Replayed, id: Some(s.id), error: None }
            } else {
                reused_id(v.index)
            });
        } else if let Some(&position) = first_in_batch.get(&v.client_record_id) {
            let first = &candidates[position];
            repeat_matches.push((v.index, first.index, same_request(&v, first)));
        } else {
            first_in_batch.insert(v.client_record_id.clone(), candidates.len());
            candidates.push(v);
        }
    }

    // Products, reference values for the patient-level MME, closed months.
    let mut product_ids: Vec<ProductId> = candidates.iter().map(|v| v.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    // Every version of the substances' values: each record takes the one in force on its day.
    let mut products: HashMap<ProductId, Product> = HashMap::new();
    let mut versions: HashMap<SubstanceId, Vec<(NaiveDate, i64, ReferenceValues)>> = HashMap::new();
    for (product, history) in Product::find_many_with_reference_values(conn, &product_ids)? {
        versions.entry(product.substance_id).or_insert_with(|| history.into_iter().map(|v| (v.effective_from, v.id.get(), v)).collect());
        products.insert(product.id, product);
    }
    // Days and months are the country's (local midnight).
    let zone = Country::zone_of(conn, &facility.country_code)?;
    let earliest = candidates.iter().map(|v| v.dispensed_at).min();
    let closed: Vec<NaiveDate> = match earliest {
        Some(t) => ReportingPeriod::closed_months(conn, facility.id, Month::of_instant(zone, t).first_day())?,
        None => Vec::new(),
    };

    let mut checked: Vec<ValidRecord> = Vec::with_capacity(candidates.len());
    for v in candidates {
        let day = local_day(zone, v.dispensed_at);
        let refusal = if !products.contains_key(&v.product_id) {
            Some(DomainError::field("/product_id", "unknown product"))
        } else if closed.contains(&Month::of(day).first_day()) {
            Some(DomainError::new(ProblemCode::PeriodClosed, format!("the reporting period {} is closed", Month::of(day).label())))
        } else if !facility.licensed_on(day) {
            Some(DomainError::new(ProblemCode::LicenceExpired, format!("the facility's licence expired on {}", facility.licence_valid_until)))
        } else {
            None
        };
        match refusal {
            Some(p) => results[v.index] = Some(rejected(v.index, p)),
            None => checked.push(v),
        }
    }

    // Place every record on its product's timeline, in time order.
    let mut by_product: BTreeMap<ProductId, Vec<ValidRecord>> = BTreeMap::new();
    for v in checked {
        by_product.entry(v.product_id).or_default().push(v);
    }
    let locked_ids: Vec<ProductId> = by_product.keys().copied().collect();
    let balances = StockBalance::lock(conn, facility.id, &facility.country_code, &locked_ids)?;
    let mut accepted: Vec<ValidRecord> = Vec::new();
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut new_balances: Vec<(StockBalance, i64, DateTime<Utc>)> = Vec::new();
    for mut balance in balances {
        let Some(mut group) = by_product.remove(&balance.product_id) else {
            continue;
        };
        group.sort_by_key(|v| (v.dispensed_at, v.index));
        let from = group[0].dispensed_at;
        let mut line: Timeline = timeline(conn, &balance, from)?;
        let mut last_accepted: Option<DateTime<Utc>> = None;
        for v in group {
            match line.place(v.dispensed_at, -v.quantity_units) {
                Ok(_) => {
                    last_accepted = Some(v.dispensed_at);
                    accepted.push(v);
                }
                Err(e) => {
                    let attempted = json!({"kind": "dispense", "client_record_id": v.client_record_id, "quantity_units": v.quantity_units});
                    let (refusal, error) = insufficient_stock(facility, v.product_id, v.dispensed_at, attempted, e);
                    refusals.push(refusal);
                    results[v.index] = Some(rejected(v.index, error));
                }
            }
        }
        if let Some(last) = last_accepted {
            let current = line.current();
            balance.advance(current, last);
            new_balances.push((balance, current, last));
        }
    }

    // Write the accepted records in one statement, then the balances and the evidence.
    let ids = Dispensing::allocate_ids(conn, accepted.len())?;
    let now = Utc::now();
    let mut rows = Vec::with_capacity(accepted.len());
    for (v, id) in accepted.iter().zip(&ids) {
        let product = &products[&v.product_id];
        let reference = versions.get(&product.substance_id).and_then(|vs| in_force_on(vs, local_day(zone, v.dispensed_at)));
        let factors = MmeFactors {
            strength_mg_per_unit: product.strength_mg_per_unit.clone(),
            me_factor: reference.and_then(|r| r.me_factor.clone()),
            delivery_mcg_per_hour: product.delivery_mcg_per_hour.clone(),
            transdermal_mme_per_mcg_h: reference.and_then(|r| r.transdermal_mme_per_mcg_h.clone()),
        };
        results[v.index] = Some(RecordOutcome { index: v.index, status: RecordStatus::Accepted, id: Some(*id), error: None });
        rows.push(NewDispensing {
            id: *id,
            country_code: facility.country_code.clone(),
            facility_id: facility.id,
            region_id: facility.region_id,
            product_id: v.product_id,
            substance_id: product.substance_id,
            client_record_id: v.client_record_id.clone(),
            quantity_units: v.quantity_units,
            dispensed_at: v.dispensed_at,
            recorded_at: now,
            recorded_by: actor.user_id,
            patient_pseudonym: v.patient_pseudonym.to_vec(),
            patient_sex: v.patient_sex,
            patient_age_band: v.patient_age_band,
            prescriber_id: v.prescriber_id.clone(),
            prescription_number: v.prescription_number.clone(),
            days_supply: v.days_supply,
            indication: v.indication,
            daily_mme: daily_mme(&factors, v.quantity_units, v.days_supply),
        });
    }
    let movements: Vec<Movement> = rows
        .iter()
        .map(|r| Movement {
            country_code: r.country_code.clone(),
            region_id: r.region_id,
            facility_id: r.facility_id,
            facility_kind: facility.kind,
            product_id: r.product_id,
            occurred_at: r.dispensed_at,
            bucket: StockEventKind::Dispense,
            delta_units: -r.quantity_units,
            records: 1,
            patient: Some(PatientGroup { region_id: r.region_id, sex: r.patient_sex, age_band: r.patient_age_band }),
        })
        .collect();
    Dispensing::insert_all(conn, rows)?;
    for (balance, _, _) in &new_balances {
        balance.save(conn)?;
    }
    // Last, so the shared aggregate rows stay locked only until the commit.
    rollups::apply(conn, &movements)?;
    for (index, first, same) in repeat_matches {
        let first_result = results[first].clone();
        results[index] = Some(match (same, first_result) {
            (true, Some(r)) if r.status == RecordStatus::Accepted => RecordOutcome { index, status: RecordStatus::Replayed, id: r.id, error: None },
            (true, Some(r)) => RecordOutcome { index, ..r },
            _ => reused_id(index),
        });
    }
    let outcome = BatchOutcome {
        results: results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| rejected(i, DomainError::new(ProblemCode::NotProcessed, "the record was not processed"))))
            .collect(),
        accepted_ids: ids,
    };
    let audit = AuditEntry::new(
        AuditAction::RecordDispensings,
        ResourceType::Facility,
        facility.id,
        Some(&facility.country_code),
        json!({
            "accepted": outcome.count(RecordStatus::Accepted), "replayed": outcome.count(RecordStatus::Replayed),
            "rejected": outcome.count(RecordStatus::Rejected),
            "first_id": outcome.accepted_ids.first(), "last_id": outcome.accepted_ids.last(),
        }),
    );
    Ok(Outcome::Done { output: outcome, audit: Some(audit), refusals })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities_whose_ids_agree_in_their_low_32_bits_take_different_locks() {
        let one = FacilityId(7);
        let other = FacilityId(7 + (1 << 32));
        assert_ne!(lock_key(one), lock_key(other));
        // Past every `hashtext` key (an int4) that other single-key locks use.
        assert!(lock_key(FacilityId(1)) > i64::from(i32::MAX));
        assert_eq!(lock_key(FacilityId(i64::MAX)), i64::MIN + (1 << 32) - 1);
    }
}
