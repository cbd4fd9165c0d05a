-- The daily scan and other day-sized reads find a day's dispensings through a B-tree. BRIN
-- ranges span a whole batch when pharmacies report a month at a time, so one day read a
-- month of rows.
DROP INDEX dispensings_time;
CREATE INDEX dispensings_country_time ON dispensings (country_code, dispensed_at);

-- Patient look-ups (the fill before a period, a patient's recent prescribers and
-- pharmacies) read the patient index alone, without visiting the table.
DROP INDEX dispensings_patient;
CREATE INDEX dispensings_patient ON dispensings (country_code, patient_pseudonym, dispensed_at)
    INCLUDE (days_supply, id, prescriber_id, facility_id);
