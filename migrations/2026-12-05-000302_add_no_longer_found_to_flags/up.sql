-- A flag that a rescan of the same period no longer finds is kept as `no_longer_found`,
-- naming the scan that stopped finding it; found again, it is `open` once more.
ALTER TABLE flags DROP CONSTRAINT flags_status_check;
ALTER TABLE flags ADD CONSTRAINT flags_status_check
    CHECK (status IN ('open', 'under_review', 'confirmed', 'dismissed', 'no_longer_found'));
ALTER TABLE flags ADD COLUMN no_longer_found_scan_id bigint REFERENCES scans (id) ON DELETE RESTRICT;
ALTER TABLE flags ADD CONSTRAINT flags_no_longer_found_names_its_scan
    CHECK (status <> 'no_longer_found' OR no_longer_found_scan_id IS NOT NULL);
CREATE INDEX flags_rescan ON flags (country_code, rule_code, last_scan_id);

ALTER TABLE flag_events DROP CONSTRAINT flag_events_action_check;
ALTER TABLE flag_events ADD CONSTRAINT flag_events_action_check
    CHECK (action IN ('raised', 'updated', 'status', 'assigned', 'comment', 'no_longer_found', 'found_again'));
