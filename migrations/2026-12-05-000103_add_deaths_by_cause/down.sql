DELETE FROM analytics_parameters WHERE code LIKE 'morbidity\_%';
ALTER TABLE analytics_parameters DROP COLUMN is_default;
DROP TABLE deaths_by_cause;
