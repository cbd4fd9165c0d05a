DROP VIEW counted_dispensings;
