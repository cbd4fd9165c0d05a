-- Keys' principals stay (rows refer to them) but can no longer act.
UPDATE users SET active = false WHERE id IN (SELECT user_id FROM api_keys);
ALTER TABLE audit_events DROP COLUMN api_key_id;
DROP TABLE api_keys;
ALTER TABLE users
    DROP COLUMN password_changed_at,
    DROP COLUMN must_change_password;
