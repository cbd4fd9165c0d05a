-- Dispensing to patients, and monthly reporting periods.

-- One row per dispensing: also the ledger's `dispense` entry (ids from the ledger sequence).
-- The patient is known only by a keyed pseudonym; the national identifier is never stored.
CREATE TABLE dispensings (
    id                  bigint PRIMARY KEY DEFAULT nextval('ledger_entry_id_seq'),
    country_code        text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    facility_id         bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    region_id           bigint NOT NULL REFERENCES regions (id) ON DELETE RESTRICT,
    product_id          bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    substance_id        bigint NOT NULL REFERENCES substances (id) ON DELETE RESTRICT,
    client_record_id    text NOT NULL CHECK (length(client_record_id) BETWEEN 1 AND 64),
    quantity_units      bigint NOT NULL CHECK (quantity_units > 0),
    dispensed_at        timestamptz NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    recorded_by         bigint REFERENCES users (id) ON DELETE RESTRICT,
    patient_pseudonym   bytea NOT NULL CHECK (length(patient_pseudonym) = 32),
    patient_sex         text NOT NULL CHECK (patient_sex IN ('female', 'male', 'unknown')),
    patient_age_band    text NOT NULL CHECK (patient_age_band IN ('0-14', '15-29', '30-44', '45-59', '60-74', '75+')),
    prescriber_id       text NOT NULL CHECK (length(prescriber_id) BETWEEN 1 AND 64),
    prescription_number text NOT NULL CHECK (length(prescription_number) BETWEEN 1 AND 64),
    days_supply         integer NOT NULL CHECK (days_supply BETWEEN 1 AND 365),
    indication          text NOT NULL CHECK (indication IN ('cancer', 'palliative', 'acute', 'chronic_non_cancer', 'opioid_dependence', 'other')),
    -- Patient-level morphine milligram equivalents per day; NULL when the factor is not configured.
    daily_mme           numeric(14, 4),
    UNIQUE (facility_id, client_record_id)
);
CREATE INDEX dispensings_timeline ON dispensings (facility_id, product_id, dispensed_at, id);
CREATE INDEX dispensings_patient ON dispensings (country_code, patient_pseudonym, dispensed_at);
CREATE INDEX dispensings_prescriber ON dispensings (country_code, prescriber_id, dispensed_at);
CREATE INDEX dispensings_time ON dispensings USING brin (dispensed_at);
CREATE TRIGGER dispensings_append_only BEFORE UPDATE OR DELETE ON dispensings
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

-- A facility closes each month with its submissions or an explicit zero report.
CREATE TABLE reporting_periods (
    facility_id      bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    period           date NOT NULL CHECK (extract(day FROM period) = 1),
    country_code     text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    zero_report      boolean NOT NULL,
    dispensing_count bigint NOT NULL CHECK (dispensing_count >= 0),
    closed_at        timestamptz NOT NULL DEFAULT now(),
    closed_by        bigint REFERENCES users (id) ON DELETE RESTRICT,
    PRIMARY KEY (facility_id, period),
    CHECK (NOT zero_report OR dispensing_count = 0)
);
CREATE INDEX reporting_periods_country ON reporting_periods (country_code, period);
CREATE TRIGGER reporting_periods_append_only BEFORE UPDATE OR DELETE ON reporting_periods
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

CREATE OR REPLACE VIEW ledger_entries AS
SELECT id, country_code, facility_id, product_id, kind, delta_units, occurred_at, recorded_at, recorded_by,
       reason, reverses_entry_id, import_authorization_id, transfer_id
FROM stock_events
UNION ALL
SELECT id, country_code, facility_id, product_id, 'dispense', -quantity_units, dispensed_at, recorded_at, recorded_by,
       NULL, NULL, NULL, NULL
FROM dispensings;
