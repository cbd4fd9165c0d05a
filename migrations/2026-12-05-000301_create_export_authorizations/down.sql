DROP INDEX stock_events_export_authorization;
ALTER TABLE stock_events DROP CONSTRAINT stock_events_export_has_authorization;
ALTER TABLE stock_events DROP CONSTRAINT stock_events_kind_check;
ALTER TABLE stock_events ADD CONSTRAINT stock_events_kind_check
    CHECK (kind IN ('import_receipt', 'receipt', 'transfer_out', 'transfer_in',
                    'return', 'destruction', 'loss', 'theft', 'adjustment', 'count_adjustment', 'reversal'));
ALTER TABLE stock_events DROP COLUMN export_authorization_id;
DROP TABLE export_authorizations;
