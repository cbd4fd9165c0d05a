-- Daily MME computed by the labelled strength stays as it is: the base method is not restored.
ALTER TABLE products DROP COLUMN strength_salt, DROP COLUMN strength_mg_per_unit;
