//! The licensed supply chain: import authorizations against the estimates, and receipts.

pub mod confirm_transfer_receipt;
pub mod create_transfer;
pub mod issue_import_authorization;
pub mod record_import_receipt;
