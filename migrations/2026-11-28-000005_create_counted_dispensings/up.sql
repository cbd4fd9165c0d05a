-- The dispensings that count: those no reversal has undone. Analytics and diversion rules
-- read dispensing through this view, so "reversed dispensings never count" is said once.
-- PostgreSQL inlines the view: plans are those of the anti-join written out.
CREATE VIEW counted_dispensings AS
SELECT d.*
FROM dispensings d
WHERE NOT EXISTS (SELECT 1 FROM stock_events r WHERE r.reverses_entry_id = d.id);
