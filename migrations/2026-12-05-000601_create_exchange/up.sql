-- The regional exchange: national instances send signed monthly aggregate packages to a
-- hub. One schema serves both sides: a national instance keeps its sharing policy and its
-- pushes; a hub keeps the registered country keys and the packages it received.

-- The `exchange` role: a hub-issued credential of one country's instance, no facility.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'regulator', 'ministry', 'wholesaler', 'pharmacy', 'regional', 'exchange'));
ALTER TABLE users ADD CONSTRAINT users_check CHECK (CASE role
    WHEN 'admin' THEN country_code IS NULL AND facility_id IS NULL
    WHEN 'regional' THEN country_code IS NULL AND facility_id IS NULL
    WHEN 'ministry' THEN country_code IS NOT NULL AND facility_id IS NULL
    WHEN 'regulator' THEN country_code IS NOT NULL AND facility_id IS NULL
    WHEN 'exchange' THEN country_code IS NOT NULL AND facility_id IS NULL
    ELSE country_code IS NOT NULL AND facility_id IS NOT NULL
END);

-- National side: which sections of the package the country shares (none by default: no
-- row means nothing is shared).
CREATE TABLE exchange_policies (
    country_code text PRIMARY KEY REFERENCES countries (code) ON DELETE RESTRICT,
    shared       text[] NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   bigint REFERENCES users (id) ON DELETE SET NULL
);

-- National side: every package built for the hub, its delivery attempts and outcome. A
-- package is sent again as it is (same sequence, same bytes) until delivered; a changed
-- month gets a new sequence.
CREATE TABLE exchange_pushes (
    id              bigserial PRIMARY KEY,
    country_code    text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    sequence        bigint NOT NULL CHECK (sequence > 0),
    content_sha256  bytea NOT NULL CHECK (length(content_sha256) = 32),
    envelope        jsonb NOT NULL,
    hub_url         text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (country_code, sequence)
);
CREATE INDEX exchange_pushes_month ON exchange_pushes (country_code, month, sequence);

-- Hub side: the public key of each country's instance, registered by the hub's admin.
CREATE TABLE exchange_keys (
    id            bigserial PRIMARY KEY,
    country_code  text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    public_key    bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX exchange_keys_country ON exchange_keys (country_code);

-- Hub side: every accepted package, verified; a correction for the same month supersedes
-- the earlier one, which is kept.
CREATE TABLE exchange_packages (
    id             bigserial PRIMARY KEY,
    country_code   text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    month          date NOT NULL CHECK (extract(day FROM month) = 1),
    sequence       bigint NOT NULL,
    schema_version integer NOT NULL,
    key_id         bigint NOT NULL REFERENCES exchange_keys (id) ON DELETE RESTRICT,
    package        jsonb NOT NULL,
    signature      bytea NOT NULL CHECK (length(signature) = 64),
    received_at    timestamptz NOT NULL DEFAULT now(),
    received_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    superseded_by  bigint REFERENCES exchange_packages (id) ON DELETE RESTRICT,
    UNIQUE (country_code, sequence)
);
CREATE UNIQUE INDEX exchange_packages_current ON exchange_packages (country_code, month) WHERE superseded_by IS NULL;
