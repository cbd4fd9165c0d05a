//! The authorized importer records a shipment received against its authorization; its stock
//! is credited. Beyond the authorized total, outside the validity or with an expired licence
//! the receipt is refused and the attempt recorded.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppError, AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome, Refusal};
use crate::app::supply::authorized_movement::{self, Direction};
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::facility::Facility;
use crate::db::models::import_authorization::ImportAuthorization;
use crate::domain::authorization::Terms;
use crate::domain::ids::ImportAuthorizationId;

#[derive(Debug, Clone)]
pub struct Input {
    pub import_authorization_id: ImportAuthorizationId,
    pub quantity_units: i64,
    /// Checked against the back-dating window by the caller.
    pub received_at: DateTime<Utc>,
}

/// The receipt and the authorization with its received total after it.
pub struct Receipt {
    pub appended: Appended,
    pub authorization: ImportAuthorization,
    pub received_units: i64,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Receipt>> {
    let id = input.import_authorization_id;
    let authorization = ImportAuthorization::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("import authorization"))?;
    if actor.facility_id != Some(authorization.importer_facility_id) {
        return Err(DomainError::forbidden("only the authorized importer records receipts against it").into());
    }
    let facility = Facility::find(conn, authorization.importer_facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
    let received = ImportAuthorization::received_units(conn, &[id])?.first().map_or(0, |(_, u)| *u);
    let terms = Terms {
        valid_from: authorization.valid_from,
        valid_until: authorization.valid_until,
        authorized_units: authorization.quantity_units,
        used_units: received,
    };
    let refusal = authorized_movement::refusal(conn, Direction::Import, &facility, &terms, input.received_at, input.quantity_units)?;
    if let Some((code, error)) = refusal {
        let refusal = Refusal {
            code,
            country_code: facility.country_code.clone(),
            facility_id: Some(facility.id),
            product_id: Some(authorization.product_id),
            occurred_at: input.received_at,
            details: json!({"import_authorization_id": id, "quantity_units": input.quantity_units, "received_units": received, "authorized_units": authorization.quantity_units}),
        };
        return Ok(Outcome::Refused(refusal, error));
    }
    let mut ledger = ProductLedger::open(conn, &facility, authorization.product_id, input.received_at)?;
    let entry = Entry { import_authorization_id: Some(id), ..Entry::new(StockEventKind::ImportReceipt, input.quantity_units, input.received_at) };
    let appended = ledger.append(conn, actor, entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("a receipt cannot go negative: {e}")))?;
    let audit = AuditEntry::new(
        AuditAction::RecordImportReceipt,
        ResourceType::ImportAuthorization,
        id,
        Some(&facility.country_code),
        json!({"stock_event_id": appended.event.id, "quantity_units": input.quantity_units}),
    );
    Ok(Outcome::done(Receipt { appended, authorization, received_units: received + input.quantity_units }, audit))
}
