ALTER TABLE audit_events DROP COLUMN api_key_id;
DROP TABLE api_keys;
DELETE FROM idempotency_keys WHERE user_id IN (SELECT id FROM users WHERE password_hash = '!api-key');
ALTER TABLE users
    DROP COLUMN password_changed_at,
    DROP COLUMN must_change_password;
