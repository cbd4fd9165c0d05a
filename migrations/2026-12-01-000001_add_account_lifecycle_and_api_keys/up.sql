-- Account lifecycle and API keys.
--
-- A password reset by an admin sets must_change_password; password_changed_at (null: not
-- changed since the user was created) ends every token issued before it. An API key acts through a principal of its own: a facility user
-- row (role and scope of the facility's reporting users, no usable password) that exists
-- only for the key, so every foreign key to users (recorded_by, idempotency keys) works
-- unchanged and the audit log names the key.

ALTER TABLE users
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at  timestamptz;

CREATE TABLE api_keys (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    user_id       bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE RESTRICT,
    facility_id   bigint NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    country_code  text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    -- The first characters of the key, to recognise it in lists; not enough to use it.
    prefix        text NOT NULL,
    secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX api_keys_country ON api_keys (country_code, id);
CREATE INDEX api_keys_facility ON api_keys (facility_id, id);

ALTER TABLE audit_events ADD COLUMN api_key_id bigint REFERENCES api_keys (id) ON DELETE RESTRICT;
