DROP INDEX dispensings_patient;
CREATE INDEX dispensings_patient ON dispensings (country_code, patient_pseudonym, dispensed_at);

DROP INDEX dispensings_country_time;
CREATE INDEX dispensings_time ON dispensings USING brin (dispensed_at);
