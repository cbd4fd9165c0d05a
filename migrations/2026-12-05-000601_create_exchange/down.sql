DROP TABLE exchange_packages;
DROP TABLE exchange_keys;
DROP TABLE exchange_pushes;
DROP TABLE exchange_policies;
DELETE FROM users WHERE role = 'exchange';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'regulator', 'ministry', 'wholesaler', 'pharmacy', 'regional'));
ALTER TABLE users ADD CONSTRAINT users_check CHECK (CASE role
    WHEN 'admin' THEN country_code IS NULL AND facility_id IS NULL
    WHEN 'regional' THEN country_code IS NULL AND facility_id IS NULL
    WHEN 'ministry' THEN country_code IS NOT NULL AND facility_id IS NULL
    WHEN 'regulator' THEN country_code IS NOT NULL AND facility_id IS NULL
    ELSE country_code IS NOT NULL AND facility_id IS NOT NULL
END);
