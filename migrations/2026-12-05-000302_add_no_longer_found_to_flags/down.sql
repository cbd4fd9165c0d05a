ALTER TABLE flag_events DROP CONSTRAINT flag_events_action_check;
ALTER TABLE flag_events ADD CONSTRAINT flag_events_action_check
    CHECK (action IN ('raised', 'updated', 'status', 'assigned', 'comment'));
DROP INDEX flags_rescan;
ALTER TABLE flags DROP CONSTRAINT flags_no_longer_found_names_its_scan;
ALTER TABLE flags DROP COLUMN no_longer_found_scan_id;
ALTER TABLE flags DROP CONSTRAINT flags_status_check;
ALTER TABLE flags ADD CONSTRAINT flags_status_check
    CHECK (status IN ('open', 'under_review', 'confirmed', 'dismissed'));
