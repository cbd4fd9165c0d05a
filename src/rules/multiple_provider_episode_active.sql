-- Fragment: only the patients with a dispensing in [$3, $4) (short periods); $1 = country.
AND d.patient_pseudonym IN (SELECT a.patient_pseudonym FROM counted_dispensings a
    WHERE a.country_code = $1 AND a.dispensed_at >= $3 AND a.dispensed_at < $4)
