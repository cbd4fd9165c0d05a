-- Exports (INCB Form A, and the mass balance): export authorizations issued by the regulator
-- to a licensed exporter, and shipments against them debiting the exporter's stock as
-- `export` ledger entries.

CREATE TABLE export_authorizations (
    id                        bigserial PRIMARY KEY,
    number                    text NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
    country_code              text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    exporter_facility_id      bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    importing_country         text NOT NULL CHECK (importing_country ~ '^[A-Z]{2}$'),
    -- The importing country's import certificate (1961 Convention art. 31(5)).
    import_certificate_number text NOT NULL CHECK (length(import_certificate_number) BETWEEN 1 AND 64),
    product_id                bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    substance_id              bigint NOT NULL REFERENCES substances (id) ON DELETE RESTRICT,
    quantity_units            bigint NOT NULL CHECK (quantity_units > 0),
    quantity_g                numeric(24, 9) NOT NULL CHECK (quantity_g > 0),
    year                      integer NOT NULL,
    valid_from                date NOT NULL,
    valid_until               date NOT NULL,
    issued_by                 bigint REFERENCES users (id) ON DELETE RESTRICT,
    created_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until >= valid_from),
    CHECK (importing_country <> country_code),
    UNIQUE (country_code, number)
);
CREATE INDEX export_authorizations_year ON export_authorizations (country_code, substance_id, year);
CREATE INDEX export_authorizations_exporter ON export_authorizations (exporter_facility_id);
CREATE TRIGGER export_authorizations_append_only BEFORE UPDATE OR DELETE ON export_authorizations
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

ALTER TABLE stock_events ADD COLUMN export_authorization_id bigint REFERENCES export_authorizations (id) ON DELETE RESTRICT;
ALTER TABLE stock_events DROP CONSTRAINT stock_events_kind_check;
ALTER TABLE stock_events ADD CONSTRAINT stock_events_kind_check
    CHECK (kind IN ('import_receipt', 'receipt', 'transfer_out', 'transfer_in', 'export',
                    'return', 'destruction', 'loss', 'theft', 'adjustment', 'count_adjustment', 'reversal'));
ALTER TABLE stock_events ADD CONSTRAINT stock_events_export_has_authorization
    CHECK ((kind = 'export') = (export_authorization_id IS NOT NULL));
CREATE INDEX stock_events_export_authorization ON stock_events (export_authorization_id) WHERE export_authorization_id IS NOT NULL;
