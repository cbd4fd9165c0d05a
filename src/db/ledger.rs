//! The stock ledger's one write path for single entries, and its reads.
//!
//! `ProductLedger::open` locks a facility-product balance and loads the entries later than
//! the time about to be written; `append` checks the never-negative rule on that timeline,
//! inserts the entry and stores the new balance. What a refusal records and answers is
//! `app::stock::insufficient_stock`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

use crate::db::enums::StockEventKind;
use crate::db::models::audit_event::Actor;
use crate::db::models::dispensing::Dispensing;
use crate::db::models::facility::Facility;
use crate::db::models::stock_balance::StockBalance;
use crate::db::models::stock_event::{NewStockEvent, StockEvent};
use crate::db::rollups::{self, Movement, PatientGroup};
use crate::domain::ids::{ExportAuthorizationId, FacilityId, ImportAuthorizationId, InventoryCountId, LedgerEntryId, ProductId, TransferId, UserId};
use crate::domain::ledger::{LedgerError, Timeline};

/// A new ledger entry of one facility and product.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: StockEventKind,
    pub delta_units: i64,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub reverses_entry_id: Option<LedgerEntryId>,
    pub reversed_kind: Option<StockEventKind>,
    pub import_authorization_id: Option<ImportAuthorizationId>,
    pub transfer_id: Option<TransferId>,
    pub inventory_count_id: Option<InventoryCountId>,
    pub export_authorization_id: Option<ExportAuthorizationId>,
}

impl Entry {
    pub fn new(kind: StockEventKind, delta_units: i64, occurred_at: DateTime<Utc>) -> Self {
        Entry {
            kind,
            delta_units,
            occurred_at,
            reason: None,
            reverses_entry_id: None,
            reversed_kind: None,
            import_authorization_id: None,
            transfer_id: None,
            inventory_count_id: None,
            export_authorization_id: None,
        }
    }
}

/// An appended entry and the balance just after it (at its own time).
#[derive(Debug, Clone)]
pub struct Appended {
    pub event: StockEvent,
    pub balance_after_units: i64,
}

/// Entries of a facility-product later than `after`, in ledger order: (time, units).
pub fn later_entries(
    conn: &mut PgConnection,
    facility_id: FacilityId,
    product_id: ProductId,
    after: DateTime<Utc>,
) -> QueryResult<Vec<(DateTime<Utc>, i64)>> {
    use crate::db::views_schema::ledger_entries as e;
    e::table
        .filter(e::facility_id.eq(facility_id))
        .filter(e::product_id.eq(product_id))
        .filter(e::occurred_at.gt(after))
        .order((e::occurred_at, e::id))
        .select((e::occurred_at, e::delta_units))
        .load(conn)
}

/// The timeline of a locked balance from `from` on.
pub fn timeline(conn: &mut PgConnection, balance: &StockBalance, from: DateTime<Utc>) -> QueryResult<Timeline> {
    let later = match balance.last_occurred_at {
        Some(last) if last > from => later_entries(conn, balance.facility_id, balance.product_id, from)?,
        _ => Vec::new(),
    };
    Ok(Timeline::new(balance.balance_units, &later))
}

/// One facility-product ledger, locked for the rest of the transaction.
pub struct ProductLedger<'f> {
    facility: &'f Facility,
    balance: StockBalance,
    timeline: Timeline,
}

impl<'f> ProductLedger<'f> {
    /// Locks the balance and loads the timeline from `from` (the earliest time to write).
    pub fn open(conn: &mut PgConnection, facility: &'f Facility, product_id: ProductId, from: DateTime<Utc>) -> QueryResult<Self> {
        let balance = StockBalance::lock(conn, facility.id, &facility.country_code, &[product_id])?.pop().ok_or(diesel::result::Error::NotFound)?;
        let timeline = timeline(conn, &balance, from)?;
        Ok(ProductLedger { facility, balance, timeline })
    }

    /// Book balance just before an entry at `at`.
    pub fn balance_at(&self, at: DateTime<Utc>) -> i64 {
        self.timeline.balance_at(at)
    }

    /// Whether an entry of `delta` units at `at` could be appended (nothing is written).
    pub fn check(&self, at: DateTime<Utc>, delta: i64) -> Result<i64, LedgerError> {
        self.timeline.clone().place(at, delta)
    }

    /// Appends `entry` unless it would make the balance negative at any date.
    pub fn append(&mut self, conn: &mut PgConnection, actor: &Actor, entry: Entry) -> QueryResult<Result<Appended, LedgerError>> {
        let balance_after_units = match self.timeline.place(entry.occurred_at, entry.delta_units) {
            Ok(after) => after,
            Err(e) => return Ok(Err(e)),
        };
        let event = StockEvent::insert(
            conn,
            &NewStockEvent {
                country_code: &self.facility.country_code,
                facility_id: self.facility.id,
                product_id: self.balance.product_id,
                kind: entry.kind,
                delta_units: entry.delta_units,
                occurred_at: entry.occurred_at,
                recorded_by: actor.user_id,
                reason: entry.reason.as_deref(),
                reverses_entry_id: entry.reverses_entry_id,
                reversed_kind: entry.reversed_kind,
                import_authorization_id: entry.import_authorization_id,
                transfer_id: entry.transfer_id,
                inventory_count_id: entry.inventory_count_id,
                request_id: actor.request_id.as_deref(),
                region_id: self.facility.region_id,
                export_authorization_id: entry.export_authorization_id,
            },
        )?;
        self.balance.advance(self.timeline.current(), entry.occurred_at);
        self.balance.save(conn)?;
        let movement = self.movement(conn, &event)?;
        rollups::apply(conn, &[movement])?;
        Ok(Ok(Appended { event, balance_after_units }))
    }
}

/// What a reversal needs to know of the entry it compensates.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::views_schema::ledger_entries, check_for_backend(diesel::pg::Pg))]
pub struct EntryRef {
    pub id: LedgerEntryId,
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub kind: StockEventKind,
    pub delta_units: i64,
    pub occurred_at: DateTime<Utc>,
}

/// Any ledger entry (stock event or dispensing) by id.
pub fn find_entry(conn: &mut PgConnection, id: LedgerEntryId) -> QueryResult<Option<EntryRef>> {
    use crate::db::views_schema::ledger_entries as e;
    e::table.find(id).select(EntryRef::as_select()).get_result(conn).optional()
}

impl ProductLedger<'_> {
    /// How an appended entry counts in the monthly aggregates.
    fn movement(&self, conn: &mut PgConnection, event: &StockEvent) -> QueryResult<Movement> {
        let reversal = event.kind == StockEventKind::Reversal;
        let bucket = if reversal { event.reversed_kind.unwrap_or(event.kind) } else { event.kind };
        // A reversed dispensing leaves the demographic aggregate where it was counted.
        let patient = match (bucket, event.reverses_entry_id) {
            (StockEventKind::Dispense, Some(id)) => {
                Dispensing::find(conn, id)?.map(|d| PatientGroup { region_id: d.region_id, sex: d.patient_sex, age_band: d.patient_age_band })
            }
            _ => None,
        };
        Ok(Movement {
            country_code: event.country_code.clone(),
            region_id: event.region_id,
            facility_id: event.facility_id,
            facility_kind: self.facility.kind,
            product_id: event.product_id,
            occurred_at: event.occurred_at,
            bucket,
            delta_units: event.delta_units,
            records: if reversal { -1 } else { 1 },
            patient,
        })
    }
}

/// One row of a facility's ledger with the running balance after it.
#[derive(Debug, Clone, QueryableByName)]
pub struct LedgerRow {
    #[diesel(sql_type = BigInt)]
    pub id: LedgerEntryId,
    #[diesel(sql_type = BigInt)]
    pub product_id: ProductId,
    #[diesel(sql_type = Text)]
    pub kind: StockEventKind,
    #[diesel(sql_type = BigInt)]
    pub delta_units: i64,
    #[diesel(sql_type = BigInt)]
    pub balance_after_units: i64,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub recorded_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub recorded_by: Option<UserId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub reverses_entry_id: Option<LedgerEntryId>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub import_authorization_id: Option<ImportAuthorizationId>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub transfer_id: Option<TransferId>,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// Filters of a ledger listing.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub product_id: Option<ProductId>,
    pub kind: Option<StockEventKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A page of a facility's ledger, newest first, each entry with the balance after it.
pub fn page(conn: &mut PgConnection, facility_id: FacilityId, filter: &LedgerFilter, offset: i64, limit: i64) -> QueryResult<(Vec<LedgerRow>, i64)> {
    let rows: Vec<LedgerRow> = diesel::sql_query(include_str!("ledger_page.sql"))
        .bind::<BigInt, _>(facility_id)
        .bind::<Nullable<BigInt>, _>(filter.product_id)
        .bind::<Nullable<Text>, _>(filter.kind.map(|k| k.as_str()))
        .bind::<Nullable<Timestamptz>, _>(filter.from)
        .bind::<Nullable<Timestamptz>, _>(filter.to)
        .bind::<BigInt, _>(offset)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    let total = match rows.first() {
        Some(r) => r.total,
        None => count(conn, facility_id, filter)?,
    };
    Ok((rows, total))
}

/// The entries a listing's filter selects (for a page past its end, which counts none).
fn count(conn: &mut PgConnection, facility_id: FacilityId, filter: &LedgerFilter) -> QueryResult<i64> {
    use crate::db::views_schema::ledger_entries as e;
    let mut q = e::table.filter(e::facility_id.eq(facility_id)).into_boxed();
    if let Some(product_id) = filter.product_id {
        q = q.filter(e::product_id.eq(product_id));
    }
    if let Some(kind) = filter.kind {
        q = q.filter(e::kind.eq(kind));
    }
    if let Some(from) = filter.from {
        q = q.filter(e::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(e::occurred_at.lt(to));
    }
    q.count().get_result(conn)
}
