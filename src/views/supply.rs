//! The supply chain on the wire: estimates, import authorizations and receipts, transfers,
//! the stock ledger, balances and inventory counts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::db::enums::{EstimateKind, ReportedEventKind, StockEventKind, TransferStatus};
use crate::db::ledger::LedgerRow;
use crate::db::models::estimate::Estimate;
use crate::db::models::import_authorization::ImportAuthorization;
use crate::db::models::inventory_count::InventoryCount;
use crate::db::models::stock_event::StockEvent;
use crate::db::models::transfer::Transfer;
use crate::domain::decimal::Decimal;
use crate::domain::ids::{
    EstimateId, FacilityId, ImportAuthorizationId, InventoryCountId, LedgerEntryId, ProductId, SubstanceId, TransferId, UserId,
};
use crate::views::{envelope, list_page};

/// Largest quantity of units one record may carry.
pub const MAX_UNITS: i64 = 1_000_000_000;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    #[validate(custom(function = "crate::views::text::single_line"))]
    pub country_code: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    #[schema(minimum = 1961, maximum = 2200)]
    #[validate(range(min = 1961, max = 2200))]
    pub year: i32,
    /// Grams of anhydrous base; up to 6 decimals.
    pub quantity_g: Decimal,
    pub kind: EstimateKind,
    /// INCB confirmation or document reference.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = "crate::views::text::single_line"))]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateView {
    #[schema(value_type = i64)]
    pub id: EstimateId,
    pub country_code: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub year: i32,
    pub kind: EstimateKind,
    pub quantity_g: Decimal,
    pub reference: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl From<Estimate> for EstimateView {
    fn from(e: Estimate) -> Self {
        EstimateView {
            id: e.id,
            country_code: e.country_code,
            substance_id: e.substance_id,
            year: e.year,
            kind: e.kind,
            quantity_g: e.quantity_g.into(),
            reference: e.reference,
            created_by: e.created_by,
            created_at: e.created_at,
        }
    }
}

/// The estimate in force for a country, substance and year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateTotalView {
    pub country_code: String,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub year: i32,
    pub annual_g: Decimal,
    pub supplementary_g: Decimal,
    pub total_g: Decimal,
}

envelope!(EstimateEnvelope, estimate, EstimateView);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EstimateList {
    pub estimates: Vec<EstimateView>,
    /// Totals in force (annual + supplementary) of every country, substance and year listed.
    pub totals: Vec<EstimateTotalView>,
    pub meta: crate::views::ListMeta,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EstimateQuery {
    /// Admin only (others see their country).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    pub year: Option<i32>,
    #[param(value_type = Option<i64>)]
    pub substance_id: Option<SubstanceId>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportAuthorizationRequest {
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub number: String,
    #[schema(value_type = i64)]
    pub importer_facility_id: FacilityId,
    /// ISO 3166-1 alpha-2 code of the exporting country.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub exporting_country: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(minimum = 1, maximum = 1000000000)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity_units: i64,
    /// The authorization counts against the estimate of this date's year.
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportAuthorizationView {
    #[schema(value_type = i64)]
    pub id: ImportAuthorizationId,
    pub number: String,
    pub country_code: String,
    #[schema(value_type = i64)]
    pub importer_facility_id: FacilityId,
    pub exporting_country: String,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(value_type = i64)]
    pub substance_id: SubstanceId,
    pub quantity_units: i64,
    /// Grams of base authorized (units × base content).
    pub quantity_g: Decimal,
    /// The estimate year it counts against.
    pub year: i32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub received_units: i64,
    pub remaining_units: i64,
    #[schema(value_type = Option<i64>)]
    pub issued_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl ImportAuthorizationView {
    pub fn new(a: ImportAuthorization, received_units: i64) -> Self {
        ImportAuthorizationView {
            id: a.id,
            number: a.number,
            country_code: a.country_code,
            importer_facility_id: a.importer_facility_id,
            exporting_country: a.exporting_country,
            product_id: a.product_id,
            substance_id: a.substance_id,
            remaining_units: a.quantity_units - received_units,
            quantity_units: a.quantity_units,
            quantity_g: a.quantity_g.into(),
            year: a.year,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            received_units,
            issued_by: a.issued_by,
            created_at: a.created_at,
        }
    }
}

envelope!(ImportAuthorizationEnvelope, import_authorization, ImportAuthorizationView);
list_page!(ImportAuthorizationList, import_authorizations, ImportAuthorizationView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportAuthorizationQuery {
    /// Admin only (others see their country; importers their own).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    #[param(value_type = Option<i64>)]
    pub importer_facility_id: Option<FacilityId>,
    pub year: Option<i32>,
    #[param(value_type = Option<i64>)]
    pub substance_id: Option<SubstanceId>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    #[schema(minimum = 1, maximum = 1000000000)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReceiptResponse {
    pub stock_event: StockEventView,
    pub import_authorization: ImportAuthorizationView,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[schema(value_type = i64)]
    pub from_facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub to_facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(minimum = 1, maximum = 1000000000)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub shipped_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferReceiptRequest {
    /// Units that arrived: at most the shipped quantity; fewer is a short receipt.
    #[schema(minimum = 0, maximum = 1000000000)]
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    #[schema(value_type = i64)]
    pub id: TransferId,
    pub country_code: String,
    #[schema(value_type = i64)]
    pub from_facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub to_facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub quantity_units: i64,
    pub shipped_at: DateTime<Utc>,
    pub status: TransferStatus,
    pub received_units: Option<i64>,
    pub received_at: Option<DateTime<Utc>>,
    /// Shipped minus received, once received.
    pub shortfall_units: Option<i64>,
}

impl From<Transfer> for TransferView {
    fn from(t: Transfer) -> Self {
        TransferView {
            id: t.id,
            status: t.status(),
            country_code: t.country_code,
            from_facility_id: t.from_facility_id,
            to_facility_id: t.to_facility_id,
            product_id: t.product_id,
            quantity_units: t.quantity_units,
            shipped_at: t.shipped_at,
            received_units: t.received_units,
            received_at: t.received_at,
            shortfall_units: t.received_units.map(|r| t.quantity_units - r),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferEnvelope {
    pub transfer: TransferView,
    /// The ledger entry the write made (shipment or receipt); absent when nothing arrived.
    pub stock_event: Option<StockEventView>,
}

list_page!(TransferList, transfers, TransferView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Admin only (others see their country; facility users their own transfers).
    #[param(pattern = "^[A-Za-z]{2}$")]
    #[validate(custom(function = "crate::views::text::country_code"))]
    pub country: Option<String>,
    /// Transfers from or to this facility.
    #[param(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
    pub status: Option<TransferStatus>,
    /// Only transfers still unconfirmed this many days after shipment.
    #[param(minimum = 0, maximum = 3650)]
    #[validate(range(min = 0, max = 3650))]
    pub unconfirmed_days: Option<i64>,
    #[param(value_type = Option<i64>)]
    pub product_id: Option<ProductId>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockEventRequest {
    pub kind: ReportedEventKind,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    /// Units moved: positive; for `adjustment` the sign says the direction.
    #[schema(minimum = -1000000000, maximum = 1000000000)]
    #[validate(range(min = -1_000_000_000, max = 1_000_000_000))]
    pub quantity_units: i64,
    pub occurred_at: DateTime<Utc>,
    /// Required for adjustments.
    #[schema(min_length = 1, max_length = 1000)]
    #[validate(length(min = 1, max = 1000), custom(function = "crate::views::text::free_text"))]
    pub reason: Option<String>,
}

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockEventView {
    #[schema(value_type = i64)]
    pub id: LedgerEntryId,
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub kind: StockEventKind,
    /// Units moved (always positive).
    pub quantity_units: i64,
    /// Signed change of the balance.
    pub delta_units: i64,
    /// The balance just after this entry, at its business time.
    pub balance_after_units: i64,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    #[schema(value_type = Option<i64>)]
    pub recorded_by: Option<UserId>,
    pub reason: Option<String>,
    /// For a reversal: the entry it compensates.
    #[schema(value_type = Option<i64>)]
    pub reverses_entry_id: Option<LedgerEntryId>,
    #[schema(value_type = Option<i64>)]
    pub import_authorization_id: Option<ImportAuthorizationId>,
    #[schema(value_type = Option<i64>)]
    pub transfer_id: Option<TransferId>,
}

impl StockEventView {
    pub fn new(e: StockEvent, balance_after_units: i64) -> Self {
        StockEventView {
            id: e.id,
            facility_id: e.facility_id,
            product_id: e.product_id,
            kind: e.kind,
            quantity_units: e.delta_units.abs(),
            delta_units: e.delta_units,
            balance_after_units,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by,
            reason: e.reason,
            reverses_entry_id: e.reverses_entry_id,
            import_authorization_id: e.import_authorization_id,
            transfer_id: e.transfer_id,
        }
    }

    pub fn from_row(facility_id: FacilityId, r: LedgerRow) -> Self {
        StockEventView {
            id: r.id,
            facility_id,
            product_id: r.product_id,
            kind: r.kind,
            quantity_units: r.delta_units.abs(),
            delta_units: r.delta_units,
            balance_after_units: r.balance_after_units,
            occurred_at: r.occurred_at,
            recorded_at: r.recorded_at,
            recorded_by: r.recorded_by,
            reason: r.reason,
            reverses_entry_id: r.reverses_entry_id,
            import_authorization_id: r.import_authorization_id,
            transfer_id: r.transfer_id,
        }
    }
}

envelope!(StockEventEnvelope, stock_event, StockEventView);
list_page!(StockEventList, stock_events, StockEventView);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockEventQuery {
    #[param(value_type = Option<i64>)]
    pub product_id: Option<ProductId>,
    pub kind: Option<StockEventKind>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
    /// Page number, from 1 (default) to 100 000.
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    /// Items per page, from 1 to 1 000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLineView {
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub balance_units: i64,
    /// Balance in mg of anhydrous base (exact).
    pub balance_mg_base: Decimal,
    /// When the balance last reached zero, while it is zero.
    pub zero_since: Option<DateTime<Utc>>,
    pub last_movement_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockResponse {
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    pub stock: Vec<StockLineView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryCountRequest {
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    #[schema(minimum = 0, maximum = 1000000000)]
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub counted_units: i64,
    pub counted_at: DateTime<Utc>,
    /// Why the count differs from the book, if it does.
    #[schema(min_length = 1, max_length = 1000)]
    #[validate(length(min = 1, max = 1000), custom(function = "crate::views::text::free_text"))]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InventoryCountView {
    #[schema(value_type = i64)]
    pub id: InventoryCountId,
    #[schema(value_type = i64)]
    pub facility_id: FacilityId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub counted_at: DateTime<Utc>,
    pub counted_units: i64,
    /// The book balance at the time of the count.
    pub expected_units: i64,
    /// Counted minus expected.
    pub variance_units: i64,
    pub reason: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub recorded_by: Option<UserId>,
}

impl From<InventoryCount> for InventoryCountView {
    fn from(c: InventoryCount) -> Self {
        InventoryCountView {
            id: c.id,
            facility_id: c.facility_id,
            product_id: c.product_id,
            counted_at: c.counted_at,
            counted_units: c.counted_units,
            expected_units: c.expected_units,
            variance_units: c.variance_units,
            reason: c.reason,
            recorded_by: c.recorded_by,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InventoryCountResponse {
    pub inventory_count: InventoryCountView,
    /// The `count_adjustment` entry that books the variance; absent when there is none.
    pub stock_event: Option<StockEventView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    #[schema(min_length = 3, max_length = 1000)]
    #[validate(length(min = 3, max = 1000), custom(function = "crate::views::text::free_text"))]
    pub reason: String,
}

/// One cause of death and its count.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseDeaths {
    /// A cause code: `cancer`, `hiv_aids`, or another the ministry chooses (lower-case
    /// letters, digits and `_`). The morbidity method counts the causes it has parameters for.
    #[schema(min_length = 1, max_length = 63, pattern = "^[a-z][a-z0-9_]{0,62}$")]
    #[validate(length(min = 1, max = 63))]
    pub cause: String,
    #[schema(minimum = 0)]
    pub deaths: i64,
}

/// A country's deaths of one year by cause, replacing those recorded before for that year.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeathsRequest {
    #[validate(length(min = 1, max = 200), nested)]
    pub causes: Vec<CauseDeaths>,
    /// Where the figures come from (civil registration, cancer registry, WHO estimates …).
    #[schema(min_length = 3, max_length = 500)]
    #[validate(length(min = 3, max = 500), custom(function = "crate::views::text::free_text"))]
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeathsView {
    pub country_code: String,
    pub year: i32,
    pub causes: Vec<CauseDeaths>,
    /// `null` when nothing is recorded for the year.
    pub source: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub recorded_by: Option<UserId>,
    pub recorded_at: Option<DateTime<Utc>>,
}

impl DeathsView {
    pub fn new(country_code: String, year: i32, rows: Vec<crate::db::models::deaths::DeathsByCause>) -> Self {
        let first = rows.first();
        DeathsView {
            country_code,
            year,
            source: first.map(|r| r.source.clone()),
            recorded_by: first.and_then(|r| r.recorded_by),
            recorded_at: first.map(|r| r.recorded_at),
            causes: rows.into_iter().map(|r| CauseDeaths { cause: r.cause, deaths: r.deaths }).collect(),
        }
    }
}

envelope!(DeathsEnvelope, deaths, DeathsView);
