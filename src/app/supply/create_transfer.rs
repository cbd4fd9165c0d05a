//! A facility's own user ships stock to another licensed facility of the same country; the
//! source's stock is debited at `shipped_at`. Refused when either licence has expired by
//! then, and with `insufficient_stock` (the attempt recorded) when the source would go
//! negative at that time or later.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use crate::app::error::{AppError, AppResult, DomainError, ProblemCode};
use crate::app::frame::{AuditEntry, Outcome};
use crate::app::policy;
use crate::app::stock::insufficient_stock;
use crate::db::enums::{AuditAction, ResourceType, StockEventKind};
use crate::db::ledger::{Appended, Entry, ProductLedger};
use crate::db::models::audit_event::Actor;
use crate::db::models::country::Country;
use crate::db::models::facility::Facility;
use crate::db::models::product::Product;
use crate::db::models::transfer::{NewTransfer, Transfer};
use crate::domain::ids::{FacilityId, ProductId};

/// A checked request: the two facilities differ.
#[derive(Debug, Clone)]
pub struct Input {
    pub from_facility_id: FacilityId,
    pub to_facility_id: FacilityId,
    pub product_id: ProductId,
    pub quantity_units: i64,
    /// Checked against the back-dating window by the caller.
    pub shipped_at: DateTime<Utc>,
}

impl Input {
    /// Checks what the request's shape cannot say.
    pub fn parse(
        from_facility_id: FacilityId,
        to_facility_id: FacilityId,
        product_id: ProductId,
        quantity_units: i64,
        shipped_at: DateTime<Utc>,
    ) -> Result<Input, DomainError> {
        if from_facility_id == to_facility_id {
            return Err(DomainError::field("/to_facility_id", "must differ from from_facility_id"));
        }
        Ok(Input { from_facility_id, to_facility_id, product_id, quantity_units, shipped_at })
    }
}

/// The transfer and the source's debit.
pub struct Shipment {
    pub transfer: Transfer,
    pub appended: Appended,
}

pub fn execute(conn: &mut PgConnection, actor: &Actor, input: Input) -> AppResult<Outcome<Shipment>> {
    let source = Facility::find(conn, input.from_facility_id)?.ok_or_else(|| DomainError::field("/from_facility_id", "unknown facility"))?;
    policy::check_reports_for(actor, source.id)?;
    let destination = Facility::find(conn, input.to_facility_id)?.ok_or_else(|| DomainError::field("/to_facility_id", "unknown facility"))?;
    if destination.country_code != source.country_code {
        return Err(
            DomainError::field("/to_facility_id", "must be a facility of the same country (cross-border movements are imports and exports)").into()
        );
    }
    // Licences run to the end of a local day.
    let day = crate::domain::period::local_day(Country::zone_of(conn, &source.country_code)?, input.shipped_at);
    if !source.licensed_on(day) {
        return Err(DomainError::new(
            ProblemCode::LicenceExpired,
            format!("the shipping facility's licence expired on {}", source.licence_valid_until),
        )
        .into());
    }
    if !destination.licensed_on(day) {
        return Err(DomainError::field("/to_facility_id", format!("the destination's licence expired on {}", destination.licence_valid_until)).into());
    }
    if Product::find(conn, input.product_id)?.is_none() {
        return Err(DomainError::field("/product_id", "unknown product").into());
    }
    let mut ledger = ProductLedger::open(conn, &source, input.product_id, input.shipped_at)?;
    if let Err(e) = ledger.check(input.shipped_at, -input.quantity_units) {
        let attempted = json!({"kind": "transfer_out", "to_facility_id": destination.id, "quantity_units": input.quantity_units});
        let (refusal, problem) = insufficient_stock(&source, input.product_id, input.shipped_at, attempted, e);
        return Ok(Outcome::Refused(refusal, problem));
    }
    let transfer = Transfer::create(
        conn,
        &NewTransfer {
            country_code: &source.country_code,
            from_facility_id: source.id,
            to_facility_id: destination.id,
            product_id: input.product_id,
            quantity_units: input.quantity_units,
            shipped_at: input.shipped_at,
            shipped_by: actor.user_id,
        },
    )?;
    let entry = Entry { transfer_id: Some(transfer.id), ..Entry::new(StockEventKind::TransferOut, -input.quantity_units, input.shipped_at) };
    let appended = ledger.append(conn, actor, entry)?.map_err(|e| AppError::Internal(anyhow::anyhow!("checked placement failed: {e}")))?;
    let audit = AuditEntry::new(
        AuditAction::CreateTransfer,
        ResourceType::Transfer,
        transfer.id,
        Some(&source.country_code),
        json!({"to_facility_id": destination.id, "product_id": transfer.product_id, "quantity_units": transfer.quantity_units, "stock_event_id": appended.event.id}),
    );
    Ok(Outcome::done(Shipment { transfer, appended }, audit))
}
