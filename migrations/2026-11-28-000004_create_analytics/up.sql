-- Analytics: maintained monthly aggregates, adequacy bands and parameters, and the rules,
-- scans and flags shared by availability findings and diversion detection.

-- The region of a stock event is kept as it was when the event was recorded (a facility may
-- later move region), like a dispensing's.
ALTER TABLE stock_events ADD COLUMN region_id bigint REFERENCES regions (id) ON DELETE RESTRICT;
ALTER TABLE stock_events DISABLE TRIGGER stock_events_append_only;
UPDATE stock_events e SET region_id = f.region_id FROM facilities f WHERE f.id = e.facility_id;
ALTER TABLE stock_events ENABLE TRIGGER stock_events_append_only;
ALTER TABLE stock_events ALTER COLUMN region_id SET NOT NULL;

-- Every ledger movement, per country, region, facility kind, product, month and bucket
-- (the entry's kind; a reversal counts, negated, under the kind it reverses). Kept current
-- in the transaction of every write.
CREATE TABLE supply_monthly (
    country_code  text NOT NULL,
    region_id     bigint NOT NULL,
    facility_kind text NOT NULL,
    product_id    bigint NOT NULL,
    month         date NOT NULL,
    bucket        text NOT NULL,
    units         bigint NOT NULL,
    PRIMARY KEY (country_code, month, region_id, facility_kind, product_id, bucket)
);

-- Dispensed units per country, region, product, month, sex and age band.
CREATE TABLE dispensing_monthly (
    country_code     text NOT NULL,
    region_id        bigint NOT NULL,
    product_id       bigint NOT NULL,
    month            date NOT NULL,
    patient_sex      text NOT NULL,
    patient_age_band text NOT NULL,
    units            bigint NOT NULL,
    records          bigint NOT NULL,
    PRIMARY KEY (country_code, month, region_id, product_id, patient_sex, patient_age_band)
);

-- Movements per facility, product, month and bucket (stock-out rates, diversion baselines).
CREATE TABLE facility_monthly (
    facility_id bigint NOT NULL,
    product_id  bigint NOT NULL,
    month       date NOT NULL,
    bucket      text NOT NULL,
    units       bigint NOT NULL,
    records     bigint NOT NULL,
    PRIMARY KEY (facility_id, product_id, month, bucket)
);

-- Build the aggregates of what exists already (an upgrade; afterwards only increments).
INSERT INTO supply_monthly
SELECT e.country_code, e.region_id, f.kind, e.product_id, date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::date,
       CASE WHEN e.kind = 'reversal' THEN e.reversed_kind ELSE e.kind END, sum(e.delta_units)
FROM stock_events e JOIN facilities f ON f.id = e.facility_id
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO supply_monthly (country_code, region_id, facility_kind, product_id, month, bucket, units)
SELECT d.country_code, d.region_id, f.kind, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE 'UTC')::date, 'dispense', -sum(d.quantity_units)
FROM dispensings d JOIN facilities f ON f.id = d.facility_id
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (country_code, month, region_id, facility_kind, product_id, bucket) DO UPDATE SET units = supply_monthly.units + EXCLUDED.units;
INSERT INTO dispensing_monthly
SELECT d.country_code, d.region_id, d.product_id, date_trunc('month', d.dispensed_at AT TIME ZONE 'UTC')::date,
       d.patient_sex, d.patient_age_band, sum(d.quantity_units), count(*)
FROM dispensings d
WHERE NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id)
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO facility_monthly
SELECT facility_id, product_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date,
       CASE WHEN kind = 'reversal' THEN reversed_kind ELSE kind END, sum(delta_units),
       sum(CASE WHEN kind = 'reversal' THEN -1 ELSE 1 END)
FROM stock_events GROUP BY 1, 2, 3, 4;
INSERT INTO facility_monthly
SELECT facility_id, product_id, date_trunc('month', dispensed_at AT TIME ZONE 'UTC')::date, 'dispense', -sum(quantity_units), count(*)
FROM dispensings GROUP BY 1, 2, 3
ON CONFLICT (facility_id, product_id, month, bucket) DO UPDATE SET units = facility_monthly.units + EXCLUDED.units, records = facility_monthly.records + EXCLUDED.records;

-- Bands of S-DDD per million inhabitants per day, kept as data with their source.
CREATE TABLE adequacy_bands (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,40}$'),
    label      text NOT NULL,
    min_sddd   numeric(14, 4) NOT NULL CHECK (min_sddd >= 0),
    max_sddd   numeric(14, 4) CHECK (max_sddd > min_sddd),
    is_finding boolean NOT NULL DEFAULT false,
    source     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO adequacy_bands (code, label, min_sddd, max_sddd, is_finding, source) VALUES
  ('very_low', 'very low (inadequate)', 0, 100, true, 'INCB, Availability of Internationally Controlled Drugs: levels of opioid analgesic consumption in S-DDD per million inhabitants per day, as commonly cited (<100 inadequate); confirm against the current INCB report'),
  ('low', 'low', 100, 200, false, 'INCB availability report consumption levels (100-200), as commonly cited; confirm against the current INCB report'),
  ('moderate', 'moderate', 200, 1000, false, 'INCB availability report consumption levels (200-1000), as commonly cited; confirm against the current INCB report'),
  ('adequate', 'adequate', 1000, NULL, false, 'INCB availability report consumption levels (>=1000), as commonly cited; confirm against the current INCB report');

-- Numeric parameters of the analytics, each with its source.
CREATE TABLE analytics_parameters (
    code        text PRIMARY KEY,
    value       numeric(18, 6) NOT NULL,
    unit        text NOT NULL,
    description text NOT NULL,
    source      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO analytics_parameters (code, value, unit, description, source) VALUES
  ('need_reference_me_mg_per_capita', 100, 'mg morphine equivalent per inhabitant per year',
   'Reference consumption for need-based estimates (population x reference)',
   'Illustrative default: set it to the AOC Index / adequacy reference your ministry adopts (INCB-WHO Guide on Estimating Requirements, 2012)'),
  ('reserve_stock_months', 6, 'months of consumption',
   'Reserve stock to hold at year end in consumption-based estimates',
   'INCB-WHO Guide on Estimating Requirements for Substances under International Control (2012): stocks to be held; adjust to national supply lead times'),
  ('days_of_stock_window', 90, 'days', 'Recent window for the dispensing rate behind days of stock left', 'Tarozi default');

-- The rules that raise flags, both availability findings and diversion signals; each
-- country's regulator configures its own.
CREATE TABLE rules (
    country_code text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    code        text NOT NULL,
    category    text NOT NULL CHECK (category IN ('availability', 'diversion')),
    description text NOT NULL,
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    params      jsonb NOT NULL DEFAULT '{}',
    enabled     boolean NOT NULL DEFAULT true,
    mode        text NOT NULL DEFAULT 'active' CHECK (mode IN ('shadow', 'active')),
    updated_by  bigint REFERENCES users (id) ON DELETE RESTRICT,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country_code, code)
);
-- Every version of every rule, so a flag's rule_version can always be read back.
CREATE TABLE rule_versions (
    country_code text NOT NULL,
    code       text NOT NULL,
    version    integer NOT NULL,
    params     jsonb NOT NULL,
    enabled    boolean NOT NULL,
    mode       text NOT NULL,
    changed_by bigint REFERENCES users (id) ON DELETE RESTRICT,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country_code, code, version),
    FOREIGN KEY (country_code, code) REFERENCES rules (country_code, code) ON DELETE CASCADE
);

CREATE TABLE scans (
    id            bigserial PRIMARY KEY,
    country_code  text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    period_from   date NOT NULL,
    period_to     date NOT NULL CHECK (period_to >= period_from),
    trigger       text NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
    requested_by  bigint REFERENCES users (id) ON DELETE RESTRICT,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    flags_raised  integer NOT NULL DEFAULT 0,
    flags_updated integer NOT NULL DEFAULT 0,
    rules         jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX scans_country ON scans (country_code, started_at);

CREATE TABLE flags (
    id            bigserial PRIMARY KEY,
    country_code  text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    rule_code     text NOT NULL,
    rule_version  integer NOT NULL,
    category      text NOT NULL CHECK (category IN ('availability', 'diversion')),
    mode          text NOT NULL CHECK (mode IN ('shadow', 'active')),
    subject_type  text NOT NULL CHECK (subject_type IN ('facility', 'prescriber', 'patient', 'region', 'country', 'substance')),
    subject_id    text NOT NULL,
    facility_id   bigint REFERENCES facilities (id) ON DELETE RESTRICT,
    region_id     bigint REFERENCES regions (id) ON DELETE RESTRICT,
    period_from   date NOT NULL,
    period_to     date NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'under_review', 'confirmed', 'dismissed')),
    title         text NOT NULL,
    params        jsonb NOT NULL,
    evidence      jsonb NOT NULL,
    assigned_to   bigint REFERENCES users (id) ON DELETE RESTRICT,
    first_scan_id bigint REFERENCES scans (id) ON DELETE RESTRICT,
    last_scan_id  bigint REFERENCES scans (id) ON DELETE RESTRICT,
    raised_at     timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (country_code, rule_code) REFERENCES rules (country_code, code) ON DELETE RESTRICT,
    -- Rescanning a period updates a flag instead of duplicating it.
    UNIQUE (country_code, rule_code, subject_type, subject_id, period_from, period_to)
);
CREATE INDEX flags_country_status ON flags (country_code, status, severity);
CREATE INDEX flags_facility ON flags (facility_id);

-- The review trail of a flag: status changes, assignments, comments.
CREATE TABLE flag_events (
    id         bigserial PRIMARY KEY,
    flag_id    bigint NOT NULL REFERENCES flags (id) ON DELETE RESTRICT,
    action     text NOT NULL CHECK (action IN ('raised', 'updated', 'status', 'assigned', 'comment')),
    from_status text,
    to_status  text,
    note       text,
    visibility text CHECK (visibility IN ('internal', 'official')),
    user_id    bigint REFERENCES users (id) ON DELETE RESTRICT,
    scan_id    bigint REFERENCES scans (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flag_events_flag ON flag_events (flag_id, id);
CREATE TRIGGER flag_events_append_only BEFORE UPDATE OR DELETE ON flag_events
    FOR EACH ROW EXECUTE FUNCTION forbid_update_or_delete();
