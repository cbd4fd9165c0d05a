//! `stock_events`: the append-only ledger of every stock movement but dispensing (which
//! lives in `dispensings`; the `ledger_entries` view joins both).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::enums::StockEventKind;
use crate::db::schema::stock_events;
use crate::domain::ids::{
    ExportAuthorizationId, FacilityId, ImportAuthorizationId, InventoryCountId, LedgerEntryId, ProductId, RegionId, TransferId, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stock_events)]
pub struct StockEvent {
    pub id: LedgerEntryId,
    pub country_code: String,
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub kind: StockEventKind,
    pub delta_units: i64,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub reason: Option<String>,
    pub reverses_entry_id: Option<LedgerEntryId>,
    pub reversed_kind: Option<StockEventKind>,
    pub import_authorization_id: Option<ImportAuthorizationId>,
    pub transfer_id: Option<TransferId>,
    pub inventory_count_id: Option<InventoryCountId>,
    pub request_id: Option<String>,
    pub region_id: RegionId,
    pub export_authorization_id: Option<ExportAuthorizationId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = stock_events)]
pub struct NewStockEvent<'a> {
    pub country_code: &'a str,
    pub facility_id: FacilityId,
    pub product_id: ProductId,
    pub kind: StockEventKind,
    pub delta_units: i64,
    pub occurred_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
    pub reason: Option<&'a str>,
    pub reverses_entry_id: Option<LedgerEntryId>,
    pub reversed_kind: Option<StockEventKind>,
    pub import_authorization_id: Option<ImportAuthorizationId>,
    pub transfer_id: Option<TransferId>,
    pub inventory_count_id: Option<InventoryCountId>,
    pub request_id: Option<&'a str>,
    pub region_id: RegionId,
    pub export_authorization_id: Option<ExportAuthorizationId>,
}

impl StockEvent {
    pub fn find(conn: &mut PgConnection, id: LedgerEntryId) -> QueryResult<Option<StockEvent>> {
        stock_events::table.find(id).select(StockEvent::as_select()).first(conn).optional()
    }

    pub fn insert(conn: &mut PgConnection, new: &NewStockEvent<'_>) -> QueryResult<StockEvent> {
        diesel::insert_into(stock_events::table).values(new).returning(StockEvent::as_returning()).get_result(conn)
    }

    /// The reversal of entry `id`, if it has one.
    pub fn reversal_of(conn: &mut PgConnection, id: LedgerEntryId) -> QueryResult<Option<StockEvent>> {
        stock_events::table.filter(stock_events::reverses_entry_id.eq(id)).select(StockEvent::as_select()).first(conn).optional()
    }
}
