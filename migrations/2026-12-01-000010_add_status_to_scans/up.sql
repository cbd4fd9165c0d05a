-- Manual scans run in the background: a scan row exists while it runs, and says how it ended.
ALTER TABLE scans
    ADD COLUMN status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed'));

UPDATE scans SET status = 'completed' WHERE finished_at IS NOT NULL;

ALTER TABLE scans
    ADD CONSTRAINT scans_finished_unless_running CHECK ((status = 'running') = (finished_at IS NULL));
