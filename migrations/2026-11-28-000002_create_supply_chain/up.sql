-- The supply chain: estimates, import authorizations, transfers, the stock ledger,
-- balances, inventory counts and refused attempts.

CREATE TABLE estimates (
    id           bigserial PRIMARY KEY,
    country_code text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    substance_id bigint NOT NULL REFERENCES substances (id) ON DELETE RESTRICT,
    year         integer NOT NULL CHECK (year BETWEEN 1961 AND 2200),
    kind         text NOT NULL CHECK (kind IN ('annual', 'supplementary')),
    quantity_g   numeric(20, 6) NOT NULL CHECK (quantity_g > 0),
    reference    text,
    created_by   bigint REFERENCES users (id) ON DELETE RESTRICT,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- One annual estimate per country, substance and year; supplementary ones add to it.
CREATE UNIQUE INDEX estimates_one_annual ON estimates (country_code, substance_id, year) WHERE kind = 'annual';
CREATE INDEX estimates_lookup ON estimates (country_code, year, substance_id);
CREATE TRIGGER estimates_append_only BEFORE UPDATE OR DELETE ON estimates
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

CREATE TABLE import_authorizations (
    id                   bigserial PRIMARY KEY,
    number               text NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
    country_code         text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    importer_facility_id bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    exporting_country    text NOT NULL CHECK (exporting_country ~ '^[A-Z]{2}$'),
    product_id           bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    substance_id         bigint NOT NULL REFERENCES substances (id) ON DELETE RESTRICT,
    quantity_units       bigint NOT NULL CHECK (quantity_units > 0),
    -- Derived once from the product's base content; summed against the estimate.
    quantity_g           numeric(24, 9) NOT NULL CHECK (quantity_g > 0),
    year                 integer NOT NULL,
    valid_from           date NOT NULL,
    valid_until          date NOT NULL,
    issued_by            bigint REFERENCES users (id) ON DELETE RESTRICT,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until >= valid_from),
    UNIQUE (country_code, number)
);
CREATE INDEX import_authorizations_year ON import_authorizations (country_code, substance_id, year);
CREATE INDEX import_authorizations_importer ON import_authorizations (importer_facility_id);

CREATE TABLE transfers (
    id                bigserial PRIMARY KEY,
    country_code      text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    from_facility_id  bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    to_facility_id    bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    product_id        bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    quantity_units    bigint NOT NULL CHECK (quantity_units > 0),
    shipped_at        timestamptz NOT NULL,
    shipped_by        bigint REFERENCES users (id) ON DELETE RESTRICT,
    received_units    bigint CHECK (received_units >= 0),
    received_at       timestamptz,
    received_by       bigint REFERENCES users (id) ON DELETE RESTRICT,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (from_facility_id <> to_facility_id),
    CHECK (received_units IS NULL OR received_units <= quantity_units),
    CHECK ((received_units IS NULL) = (received_at IS NULL))
);
CREATE INDEX transfers_from ON transfers (from_facility_id, shipped_at);
CREATE INDEX transfers_to ON transfers (to_facility_id, shipped_at);
CREATE INDEX transfers_country ON transfers (country_code, shipped_at);

-- Ids of every ledger entry (stock events here, dispensings later) come from one sequence,
-- so an entry id is unique across the ledger.
CREATE SEQUENCE ledger_entry_id_seq;

CREATE TABLE inventory_counts (
    id             bigserial PRIMARY KEY,
    country_code   text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    facility_id    bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    product_id     bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    counted_at     timestamptz NOT NULL,
    counted_units  bigint NOT NULL CHECK (counted_units >= 0),
    expected_units bigint NOT NULL,
    variance_units bigint NOT NULL,
    reason         text,
    recorded_by    bigint REFERENCES users (id) ON DELETE RESTRICT,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (variance_units = counted_units - expected_units)
);
CREATE INDEX inventory_counts_facility ON inventory_counts (facility_id, product_id, counted_at);
CREATE TRIGGER inventory_counts_append_only BEFORE UPDATE OR DELETE ON inventory_counts
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

CREATE TABLE stock_events (
    id                      bigint PRIMARY KEY DEFAULT nextval('ledger_entry_id_seq'),
    country_code            text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    facility_id             bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    product_id              bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    kind                    text NOT NULL CHECK (kind IN ('import_receipt', 'receipt', 'transfer_out', 'transfer_in',
                                'return', 'destruction', 'loss', 'theft', 'adjustment', 'count_adjustment', 'reversal')),
    delta_units             bigint NOT NULL CHECK (delta_units <> 0),
    occurred_at             timestamptz NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    recorded_by             bigint REFERENCES users (id) ON DELETE RESTRICT,
    reason                  text,
    -- A reversal names the ledger entry it compensates (a stock event or a dispensing).
    reverses_entry_id       bigint,
    reversed_kind           text,
    import_authorization_id bigint REFERENCES import_authorizations (id) ON DELETE RESTRICT,
    transfer_id             bigint REFERENCES transfers (id) ON DELETE RESTRICT,
    inventory_count_id      bigint REFERENCES inventory_counts (id) ON DELETE RESTRICT,
    request_id              text,
    CHECK ((kind = 'reversal') = (reverses_entry_id IS NOT NULL)),
    CHECK ((kind = 'import_receipt') = (import_authorization_id IS NOT NULL)),
    CHECK ((kind IN ('transfer_out', 'transfer_in')) = (transfer_id IS NOT NULL))
);
CREATE INDEX stock_events_timeline ON stock_events (facility_id, product_id, occurred_at, id);
CREATE INDEX stock_events_country_time ON stock_events (country_code, occurred_at);
CREATE INDEX stock_events_authorization ON stock_events (import_authorization_id) WHERE import_authorization_id IS NOT NULL;
-- An entry is reversed at most once.
CREATE UNIQUE INDEX stock_events_one_reversal ON stock_events (reverses_entry_id) WHERE reverses_entry_id IS NOT NULL;
CREATE TRIGGER stock_events_append_only BEFORE UPDATE OR DELETE ON stock_events
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

-- The current balance of each facility and product: the row that writers lock.
CREATE TABLE stock_balances (
    facility_id      bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    product_id       bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    country_code     text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    balance_units    bigint NOT NULL DEFAULT 0 CHECK (balance_units >= 0),
    last_occurred_at timestamptz,
    zero_since       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, product_id)
);
CREATE INDEX stock_balances_country ON stock_balances (country_code);

-- Refused writes that matter to oversight (stock going negative, receipts beyond their
-- authorization): kept as evidence for the diversion rules.
CREATE TABLE refused_attempts (
    id           bigserial PRIMARY KEY,
    country_code text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    facility_id  bigint REFERENCES facilities (id) ON DELETE RESTRICT,
    product_id   bigint REFERENCES products (id) ON DELETE RESTRICT,
    code         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  bigint REFERENCES users (id) ON DELETE RESTRICT,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX refused_attempts_country ON refused_attempts (country_code, occurred_at);
CREATE INDEX refused_attempts_facility ON refused_attempts (facility_id, occurred_at);
CREATE TRIGGER refused_attempts_append_only BEFORE UPDATE OR DELETE ON refused_attempts
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

-- Every movement of a facility's stock, whatever table holds it.
CREATE VIEW ledger_entries AS
SELECT id, country_code, facility_id, product_id, kind, delta_units, occurred_at, recorded_at, recorded_by,
       reason, reverses_entry_id, import_authorization_id, transfer_id
FROM stock_events;
