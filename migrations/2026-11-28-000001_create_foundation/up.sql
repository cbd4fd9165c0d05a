-- Foundation: reference data, facilities, users, the audit log and idempotency keys.

-- Append-only tables call this from a trigger so that no code path can rewrite history.
CREATE FUNCTION forbid_update_or_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TABLE countries (
    code              text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}$'),
    iso3              text NOT NULL UNIQUE CHECK (iso3 ~ '^[A-Z]{3}$'),
    name              text NOT NULL,
    population        bigint NOT NULL CHECK (population > 0),
    population_date   date NOT NULL,
    population_source text NOT NULL
);

CREATE TABLE regions (
    id           bigserial PRIMARY KEY,
    country_code text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code         text CHECK (length(code) BETWEEN 1 AND 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (country_code, name),
    UNIQUE (country_code, code)
);

CREATE TABLE region_populations (
    region_id  bigint NOT NULL REFERENCES regions (id) ON DELETE CASCADE,
    year       integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    total      bigint NOT NULL CHECK (total > 0),
    source     text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region_id, year)
);

CREATE TABLE region_population_groups (
    region_id bigint NOT NULL,
    year      integer NOT NULL,
    sex       text NOT NULL CHECK (sex IN ('female', 'male')),
    age_band  text NOT NULL CHECK (age_band IN ('0-14', '15-29', '30-44', '45-59', '60-74', '75+')),
    count     bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (region_id, year, sex, age_band),
    FOREIGN KEY (region_id, year) REFERENCES region_populations (region_id, year) ON DELETE CASCADE
);

CREATE TABLE substances (
    id         bigserial PRIMARY KEY,
    inn        text NOT NULL UNIQUE CHECK (inn ~ '^[a-z][a-z0-9 -]*$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'regulator', 'ministry', 'wholesaler', 'pharmacy', 'regional')),
    country_code  text REFERENCES countries (code) ON DELETE RESTRICT,
    facility_id   bigint,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE role
        WHEN 'admin' THEN country_code IS NULL AND facility_id IS NULL
        WHEN 'regional' THEN country_code IS NULL AND facility_id IS NULL
        WHEN 'ministry' THEN country_code IS NOT NULL AND facility_id IS NULL
        WHEN 'regulator' THEN country_code IS NOT NULL AND facility_id IS NULL
        ELSE country_code IS NOT NULL AND facility_id IS NOT NULL
    END)
);
CREATE UNIQUE INDEX users_username_key ON users (username);

-- Reference values are versioned: the row in force on a date is the one with the latest
-- effective_from not after it (ties: the latest recorded). Nothing is overwritten.
CREATE TABLE substance_reference_values (
    id                        bigserial PRIMARY KEY,
    substance_id              bigint NOT NULL REFERENCES substances (id) ON DELETE CASCADE,
    effective_from            date NOT NULL,
    convention                text NOT NULL CHECK (convention IN ('1961', '1971', 'none')),
    schedule                  text CHECK (schedule IN ('I', 'II', 'III', 'IV')),
    sddd_mg                   numeric(18, 6) CHECK (sddd_mg > 0),
    sddd_status               text NOT NULL,
    me_factor                 numeric(18, 6) CHECK (me_factor > 0),
    me_source                 text,
    transdermal_mme_per_mcg_h numeric(18, 6) CHECK (transdermal_mme_per_mcg_h > 0),
    reference_salt            text,
    salt_base_factor          numeric(8, 6) CHECK (salt_base_factor > 0 AND salt_base_factor <= 1),
    notes                     text,
    source                    text NOT NULL,
    recorded_by               bigint REFERENCES users (id) ON DELETE SET NULL,
    recorded_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX substance_reference_values_lookup
    ON substance_reference_values (substance_id, effective_from DESC, id DESC);
CREATE TRIGGER substance_reference_values_append_only
    BEFORE UPDATE OR DELETE ON substance_reference_values
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

CREATE TABLE products (
    id                     bigserial PRIMARY KEY,
    name                   text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    substance_id           bigint NOT NULL REFERENCES substances (id) ON DELETE RESTRICT,
    base_mg_per_unit       numeric(18, 6) NOT NULL CHECK (base_mg_per_unit > 0),
    dosage_form            text NOT NULL CHECK (dosage_form IN ('tablet', 'capsule', 'oral_solution', 'injection',
                               'transdermal_patch', 'suppository', 'sublingual', 'buccal', 'nasal_spray', 'other')),
    unit                   text NOT NULL CHECK (unit IN ('tablet', 'capsule', 'ampoule', 'vial', 'patch', 'bottle',
                               'suppository', 'sachet', 'film', 'spray', 'other')),
    delivery_mcg_per_hour  numeric(18, 6) CHECK (delivery_mcg_per_hour > 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((dosage_form = 'transdermal_patch') = (delivery_mcg_per_hour IS NOT NULL))
);
CREATE INDEX products_substance_id ON products (substance_id);

CREATE TABLE facilities (
    id                  bigserial PRIMARY KEY,
    country_code        text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    region_id           bigint NOT NULL REFERENCES regions (id) ON DELETE RESTRICT,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind                text NOT NULL CHECK (kind IN ('importer', 'wholesaler', 'pharmacy', 'hospital')),
    licence_number      text NOT NULL CHECK (length(licence_number) BETWEEN 1 AND 64),
    licence_valid_until date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (country_code, licence_number)
);
CREATE INDEX facilities_region_id ON facilities (region_id);

ALTER TABLE users ADD CONSTRAINT users_facility_id_fkey
    FOREIGN KEY (facility_id) REFERENCES facilities (id) ON DELETE RESTRICT;

CREATE TABLE audit_events (
    id            bigserial PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    user_id       bigint REFERENCES users (id) ON DELETE RESTRICT,
    role          text,
    country_code  text,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text,
    request_id    text,
    details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id);
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();

-- A write and its idempotency key commit together: a replay finds the stored response.
CREATE TABLE idempotency_keys (
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key                 text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_fingerprint bytea NOT NULL,
    response_status     smallint NOT NULL,
    response_body       bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
