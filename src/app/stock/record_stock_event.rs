//! A facility's own user records a receipt, return, destruction, loss, theft or adjustment
//! on its ledger; an entry that would make the balance negative at its time or any later
//! time is refused with `insufficient_stock` and the attempt recorded.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::app::stock::insufficient_stock;
use crate::db::enums::{AuditAction, ReportedEventKind, ResourceType};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::domain::ids::ProductId;

/// A checked request: `delta_units` carries the direction of `kind`.
#[derive(Debug, Clone)]
pub struct Input {
    /// The facility whose ledger it is (loaded by the caller).
    pub facility: Facility,
    pub kind: ReportedEventKind,
    pub product_id: ProductId,
    /// The units as sent.
    pub quantity_units: i64,
    pub delta_units: i64,
    /// Checked against the back-dating window by the caller.
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
}

impl Input {
    /// Checks what the request's shape cannot say: the sign of the units against the kind,
    /// and the reason an adjustment needs.
    pub fn parse(
        facility: Facility,
        kind: ReportedEventKind,
        product_id: ProductId,
        quantity_units: i64,
        occurred_at: DateTime<Utc>,
        reason: Option<String>,
    ) -> Result<Input, DomainError> {
        let delta_units = match kind.direction() {
            0 if quantity_units == 0 => return Err(DomainError::field("/quantity_units", "must not be 0")),
            0 => quantity_units,
            _ if quantity_units <= 0 => return Err(DomainError::field("/quantity_units", "must be positive (the kind gives the direction)")),
            direction => direction * quantity_units,
        };
        if kind == ReportedEventKind::Adjustment && reason.is_none() {
            return Err(DomainError::field("/reason", "is required for an adjustment"));
        }
        Ok(Input { facility, kind, product_id, quantity_units, delta_units, occurred_at, reason })
    }
}

/// The entry written, with the balance after it.
pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Appended>> {
    let facility = &input.facility;
    policy::check_reports_for(actor, facility.id)?;
    if Product::find(conn, input.product_id)?.is_none() {
        return Err(DomainError::field("/product_id", "unknown product").into());
    }
    let mut ledger = ProductLedger::open(conn, facility, input.product_id, input.occurred_at)?;
    let entry = Entry { reason: input.reason.clone(), ..Entry::new(input.kind.ledger_kind(), input.delta_units, input.occurred_at) };
    let appended = match ledger.append(conn, actor, entry)? {
        Ok(a) => a,
        Err(e) => {
            let attempted = json!({"kind": input.kind, "quantity_units": input.quantity_units, "occurred_at": input.occurred_at});
            let (refusal, problem) = insufficient_stock(facility, input.product_id, input.occurred_at, attempted, e);
            return Ok(Outcome::Refused(refusal, problem));
        }
    };
    let audit = AuditEntry::new(
        AuditAction::RecordStockEvent,
        ResourceType::StockEvent,
        appended.event.id,
        Some(&facility.country_code),
        json!({"facility_id": facility.id, "kind": appended.event.kind, "delta_units": appended.event.delta_units}),
    );
    Ok(Outcome::done(appended, audit))
}
