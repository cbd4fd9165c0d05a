//! Stock on the ledger: what a refusal for want of stock records and answers.

pub mod record_inventory_count;
pub mod record_stock_event;
pub mod reverse_stock_event;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::app::error::{DomainError, ProblemCode};
use crate::app::frame::Refusal;
use crate::db::enums::RefusalCode;
use crate::db::models::facility::Facility;
use crate::domain::ids::ProductId;
use crate::domain::ledger::LedgerError;

/// The recorded refusal and the `insufficient_stock` answer of an entry that would make the
/// balance of `product_id` at `facility` negative at some date.
pub fn insufficient_stock(
    facility: &Facility,
    product_id: ProductId,
    occurred_at: DateTime<Utc>,
    attempted: Value,
    error: LedgerError,
) -> (Refusal, DomainError) {
    let (before, lowest) = shortfall(error);
    let refusal = Refusal {
        code: RefusalCode::InsufficientStock,
        country_code: facility.country_code.clone(),
        facility_id: Some(facility.id),
        product_id: Some(product_id),
        occurred_at,
        details: json!({"attempted": attempted, "balance_at_time_units": before, "lowest_balance_units": lowest}),
    };
    (refusal, insufficient_stock_error(before, lowest))
}

/// The balance just before the refused entry and the lowest it would have reached.
fn shortfall(error: LedgerError) -> (i64, i64) {
    match error {
        LedgerError::WouldGoNegative { balance_before_units, lowest_balance_units } => (balance_before_units, lowest_balance_units),
        LedgerError::OutOfOrder => (0, 0),
    }
}

/// `insufficient_stock`, stating the balance at the time and the shortfall.
fn insufficient_stock_error(balance_before_units: i64, lowest_balance_units: i64) -> DomainError {
    DomainError::new(
        ProblemCode::InsufficientStock,
        format!("stock would go negative: {balance_before_units} units on hand at that time, and the balance would fall to {lowest_balance_units}"),
    )
    .with("balance_at_time_units", balance_before_units)
    .with("shortfall_units", -lowest_balance_units)
}
