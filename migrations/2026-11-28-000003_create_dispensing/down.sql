CREATE OR REPLACE VIEW ledger_entries AS
SELECT id, country_code, facility_id, product_id, kind, delta_units, occurred_at, recorded_at, recorded_by,
       reason, reverses_entry_id, import_authorization_id, transfer_id
FROM stock_events;
DROP TABLE reporting_periods;
DROP TABLE dispensings;
