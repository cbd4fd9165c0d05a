//! A facility's own user compensates a ledger entry with a reversing entry at the same
//! business time. An entry is reversed at most once (`already_reversed`); import receipts
//! and transfers are corrected through their documents (`not_reversible`); a reversal that
//! would make a balance negative is refused with `insufficient_stock` and the attempt recorded.

use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError, ProblemCode, unique_violation_as};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::app::stock::insufficient_stock;
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{self, Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::stock_event::StockEvent;
use crate::domain::ids::LedgerEntryId;

#[derive(Debug, Clone)]
pub struct Input {
    /// The ledger entry to reverse.
    pub stock_event_id: LedgerEntryId,
    pub reason: String,
}

/// The reversing entry, with the balance after it.
pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Appended>> {
    let id = input.stock_event_id;
    let original = ledger::find_entry(conn, id)?.ok_or_else(|| DomainError::not_found("ledger entry"))?;
    let facility = Facility::find(conn, original.facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
    policy::check_reports_for(actor, facility.id)?;
    if !original.kind.is_reversible() {
        return Err(DomainError::new(ProblemCode::NotReversible, format!("a {} entry cannot be reversed", original.kind)).into());
    }
    let mut ledger = ProductLedger::open(conn, &facility, original.product_id, original.occurred_at)?;
    // Checked after the lock: two reversals of one entry serialise on the balance row.
    if StockEvent::reversal_of(conn, id)?.is_some() {
        return Err(DomainError::new(ProblemCode::AlreadyReversed, "this entry has already been reversed").into());
    }
    let entry = Entry {
        reason: Some(input.reason.clone()),
        reverses_entry_id: Some(id),
        reversed_kind: Some(original.kind),
        ..Entry::new(StockEventKind::Reversal, -original.delta_units, original.occurred_at)
    };
    let appended = match ledger
        .append(conn, actor, entry)
        .map_err(unique_violation_as(DomainError::new(ProblemCode::AlreadyReversed, "this entry has already been reversed")))?
    {
        Ok(a) => a,
        Err(e) => {
            let attempted = json!({"kind": "reversal", "reverses_entry_id": id, "delta_units": -original.delta_units});
            let (refusal, problem) = insufficient_stock(&facility, original.product_id, original.occurred_at, attempted, e);
            return Ok(Outcome::Refused(refusal, problem));
        }
    };
    let audit = AuditEntry::new(
        AuditAction::ReverseStockEvent,
        ResourceType::StockEvent,
        id,
        Some(&facility.country_code),
        json!({"reversal_id": appended.event.id, "reason": input.reason}),
    );
    Ok(Outcome::done(appended, audit))
}
