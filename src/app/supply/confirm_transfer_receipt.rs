//! The destination's own user confirms what arrived of a transfer: its stock is credited
//! with the units received, and fewer than shipped makes the transfer `short`. Refused when
//! the receipt is already confirmed (`already_received`), exceeds the shipment or predates it.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppError, AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::transfer::Transfer;
use crate::domain::ids::TransferId;

#[derive(Debug, Clone)]
pub struct Input {
    pub transfer_id: TransferId,
    pub quantity_units: i64,
    /// Checked against the back-dating window by the caller.
    pub received_at: DateTime<Utc>,
}

/// The confirmed transfer and the destination's credit (none when nothing arrived).
pub struct Receipt {
    pub transfer: Transfer,
    pub appended: Option<Appended>,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Receipt>> {
    let id = input.transfer_id;
    let transfer = Transfer::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("transfer"))?;
    let destination = Facility::find(conn, transfer.to_facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
    policy::check_reports_for(actor, destination.id)?;
    if transfer.received_units.is_some() {
        return Err(DomainError::new(ProblemCode::AlreadyReceived, "this transfer's receipt is already confirmed").into());
    }
    if input.quantity_units > transfer.quantity_units {
        return Err(DomainError::field("/quantity_units", format!("exceeds the {} units shipped", transfer.quantity_units)).into());
    }
    if input.received_at < transfer.shipped_at {
        return Err(DomainError::field("/received_at", "is before the shipment").into());
    }
    let confirmed = Transfer::confirm(conn, id, input.quantity_units, input.received_at, actor.user_id)?;
    let appended = if input.quantity_units > 0 {
        let mut ledger = ProductLedger::open(conn, &destination, transfer.product_id, input.received_at)?;
        let entry = Entry { transfer_id: Some(id), ..Entry::new(StockEventKind::TransferIn, input.quantity_units, input.received_at) };
        let appended = ledger.append(conn, actor, entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("a receipt cannot go negative: {e}")))?;
        Some(appended)
    } else {
        None
    };
    let audit = AuditEntry::new(
        AuditAction::ConfirmTransferReceipt,
        ResourceType::Transfer,
        id,
        Some(&destination.country_code),
        json!({"received_units": input.quantity_units, "shipped_units": transfer.quantity_units}),
    );
    Ok(Outcome::done(Receipt { transfer: confirmed, appended }, audit))
}
