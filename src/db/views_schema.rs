//! The database views, declared to diesel by hand: `diesel print-schema` emits tables only,
//! and `schema.rs` is its output, never edited. Keep these in step with the migrations that
//! define the views (the column lists are theirs, in their order).
//!
//! diesel wants a primary key for every `table!`; a view has none, so each names the column
//! that is unique in it: `id` in both. A ledger entry's id is unique across stock events and
//! dispensings (both draw it from `ledger_entry_id_seq`); a counted dispensing is a row of
//! `dispensings`, keyed by its id. The views are read-only: nothing inserts through them.

use crate::db::schema::{countries, facilities, import_authorizations, products, regions, substances, transfers};

diesel::table! {
    /// Every ledger entry, stock events and dispensings alike (a dispensing as a `dispense`
    /// entry of minus its units): migrations `2026-11-28-000002_create_supply_chain`,
    /// redefined in `2026-11-28-000003_create_dispensing`.
    ledger_entries (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Int8,
        product_id -> Int8,
        kind -> Text,
        delta_units -> Int8,
        occurred_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Int8>,
        reason -> Nullable<Text>,
        reverses_entry_id -> Nullable<Int8>,
        import_authorization_id -> Nullable<Int8>,
        transfer_id -> Nullable<Int8>,
    }
}

diesel::table! {
    /// The dispensings that count: those no reversal has undone (`SELECT d.*` of
    /// `dispensings`, so its columns as they were when the view was made): migration
    /// `2026-11-28-000005_create_counted_dispensings`.
    counted_dispensings (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Int8,
        region_id -> Int8,
        product_id -> Int8,
        substance_id -> Int8,
        client_record_id -> Text,
        quantity_units -> Int8,
        dispensed_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Int8>,
        patient_pseudonym -> Bytea,
        patient_sex -> Text,
        patient_age_band -> Text,
        prescriber_id -> Text,
        prescription_number -> Text,
        days_supply -> Int4,
        indication -> Text,
        daily_mme -> Nullable<Numeric>,
    }
}

diesel::joinable!(ledger_entries -> countries (country_code));
diesel::joinable!(ledger_entries -> facilities (facility_id));
diesel::joinable!(ledger_entries -> products (product_id));
diesel::joinable!(ledger_entries -> import_authorizations (import_authorization_id));
diesel::joinable!(ledger_entries -> transfers (transfer_id));
diesel::joinable!(counted_dispensings -> countries (country_code));
diesel::joinable!(counted_dispensings -> facilities (facility_id));
diesel::joinable!(counted_dispensings -> regions (region_id));
diesel::joinable!(counted_dispensings -> products (product_id));
diesel::joinable!(counted_dispensings -> substances (substance_id));

/// A view may appear in one query with the tables it joins (one pair at a time: listing the
/// tables together would pair them with each other again, as `schema.rs` already does).
macro_rules! with_tables {
    ($view:ident: $($table:ident),+) => {
        $(diesel::allow_tables_to_appear_in_same_query!($view, $table);)+
    };
}

with_tables!(ledger_entries: countries, facilities, products, import_authorizations, transfers);
with_tables!(counted_dispensings: countries, facilities, regions, products, substances);
