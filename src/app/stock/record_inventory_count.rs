//! A facility's own user records a physical count: the book balance at `counted_at` is kept
//! beside the counted units, and any variance becomes a `count_adjustment` entry. A variance
//! that would make a later balance negative is refused with `insufficient_stock` and the
//! attempt recorded.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppError, AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::app::stock::insufficient_stock;
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::inventory_count::{InventoryCount, NewInventoryCount};
use crate::db::models::product::Product;
use crate::domain::ids::ProductId;

#[derive(Debug, Clone)]
pub struct Input {
    /// The facility counted (loaded by the caller).
    pub facility: Facility,
    pub product_id: ProductId,
    pub counted_units: i64,
    /// Checked against the back-dating window by the caller.
    pub counted_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// The count and, when it differs from the book, the adjustment entry.
pub struct Counted {
    pub count: InventoryCount,
    pub adjustment: Option<Appended>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Counted>> {
    let facility = &input.facility;
    policy::check_reports_for(actor, facility.id)?;
    if Product::find(conn, input.product_id)?.is_none() {
        return Err(DomainError::field("/product_id", "unknown product").into());
    }
    let mut ledger = ProductLedger::open(conn, facility, input.product_id, input.counted_at)?;
    let expected = ledger.balance_at(input.counted_at);
    let variance = input.counted_units - expected;
    if variance != 0
        && let Err(e) = ledger.check(input.counted_at, variance)
    {
        let attempted =
            json!({"kind": "count_adjustment", "counted_units": input.counted_units, "expected_units": expected, "counted_at": input.counted_at});
        let (refusal, problem) = insufficient_stock(facility, input.product_id, input.counted_at, attempted, e);
        return Ok(Outcome::Refused(refusal, problem));
    }
    let count = InventoryCount::create(
        conn,
        &NewInventoryCount {
            country_code: &facility.country_code,
            facility_id: facility.id,
            product_id: input.product_id,
            counted_at: input.counted_at,
            counted_units: input.counted_units,
            expected_units: expected,
            variance_units: variance,
            reason: input.reason.as_deref(),
            recorded_by: actor.user_id,
        },
    )?;
    let adjustment = if variance != 0 {
        let entry = Entry {
            inventory_count_id: Some(count.id),
            reason: Some(input.reason.clone().unwrap_or_else(|| "inventory count variance".to_owned())),
            ..Entry::new(StockEventKind::CountAdjustment, variance, input.counted_at)
        };
        let appended = ledger.append(conn, actor, entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("checked placement failed: {e}")))?;
        Some(appended)
    } else {
        None
    };
    let audit = AuditEntry::new(
        AuditAction::RecordInventoryCount,
        ResourceType::InventoryCount,
        count.id,
        Some(&facility.country_code),
        json!({"facility_id": facility.id, "product_id": count.product_id, "counted_units": count.counted_units, "expected_units": expected, "variance_units": variance}),
    );
    Ok(Outcome::done(Counted { count, adjustment }, audit))
}
