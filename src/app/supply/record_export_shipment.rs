//! The authorized exporter records a shipment against its export authorization; its stock
//! is debited with an `export` ledger entry. Beyond the authorized total, outside the
//! validity (days are the exporter's country's), with an expired licence, or beyond the stock held at that time (at any date
//! after it), the shipment is refused and the attempt recorded (`refused_attempts` codes
//! `export_authorization_exceeded`, `export_authorization_not_valid`,
//! `export_licence_expired`, `insufficient_stock`; the answer's problem codes are those of
//! import receipts).

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppResult, DomainError};
use crate::app::frame::{AuditEntry, Outcome, Refusal};
use crate::app::stock::insufficient_stock;
use crate::app::supply::authorized_movement::{self, Direction};
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::export_authorization::ExportAuthorization;
use crate::db::models::facility::Facility;
use crate::domain::authorization::Terms;
use crate::domain::ids::ExportAuthorizationId;

#[derive(Debug, Clone)]
pub struct Input {
    pub export_authorization_id: ExportAuthorizationId,
    pub quantity_units: i64,
    /// Checked against the back-dating window by the caller.
    pub shipped_at: DateTime<Utc>,
}

/// The shipment's ledger entry and the authorization with its shipped total after it.
pub struct Shipment {
    pub appended: Appended,
    pub authorization: ExportAuthorization,
    pub shipped_units: i64,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Shipment>> {
    let id = input.export_authorization_id;
    let authorization = ExportAuthorization::find_for_update(conn, id)?.ok_or_else(|| DomainError::not_found("export authorization"))?;
    if actor.facility_id != Some(authorization.exporter_facility_id) {
        return Err(DomainError::forbidden("only the authorized exporter records shipments against it").into());
    }
    let facility = Facility::find(conn, authorization.exporter_facility_id)?.ok_or_else(|| DomainError::not_found("facility"))?;
    let shipped = ExportAuthorization::shipped_units(conn, &[id])?.first().map_or(0, |(_, u)| *u);
    let terms = Terms {
        valid_from: authorization.valid_from,
        valid_until: authorization.valid_until,
        authorized_units: authorization.quantity_units,
        used_units: shipped,
    };
    let refusal = authorized_movement::refusal(conn, Direction::Export, &facility, &terms, input.shipped_at, input.quantity_units)?;
    if let Some((code, error)) = refusal {
        let refusal = Refusal {
            code,
            country_code: facility.country_code.clone(),
            facility_id: Some(facility.id),
            product_id: Some(authorization.product_id),
            occurred_at: input.shipped_at,
            details: json!({
                "export_authorization_id": id,
                "quantity_units": input.quantity_units,
                "shipped_units": shipped,
                "authorized_units": authorization.quantity_units,
            }),
        };
        return Ok(Outcome::Refused(refusal, error));
    }
    let mut ledger = ProductLedger::open(conn, &facility, authorization.product_id, input.shipped_at)?;
    let entry = Entry { export_authorization_id: Some(id), ..Entry::new(StockEventKind::Export, -input.quantity_units, input.shipped_at) };
    let appended = match ledger.append(conn, actor, entry)? {
        Ok(a) => a,
        Err(e) => {
            let attempted = json!({"kind": "export", "export_authorization_id": id, "quantity_units": input.quantity_units});
            let (refusal, problem) = insufficient_stock(&facility, authorization.product_id, input.shipped_at, attempted, e);
            return Ok(Outcome::Refused(refusal, problem));
        }
    };
    let audit = AuditEntry::new(
        AuditAction::RecordExportShipment,
        ResourceType::ExportAuthorization,
        id,
        Some(&facility.country_code),
        json!({"stock_event_id": appended.event.id, "quantity_units": input.quantity_units}),
    );
    Ok(Outcome::done(Shipment { appended, authorization, shipped_units: shipped + input.quantity_units }, audit))
}
