ALTER TABLE scans DROP CONSTRAINT scans_finished_unless_running;
ALTER TABLE scans DROP COLUMN status;
