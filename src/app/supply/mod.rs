//! The licensed supply chain: import authorizations against the estimates and receipts
//! against them, transfers, and export authorizations with their shipments.

pub mod authorized_movement;
pub mod confirm_transfer_receipt;
pub mod create_transfer;
pub mod issue_export_authorization;
pub mod issue_import_authorization;
pub mod record_export_shipment;
pub mod record_import_receipt;
