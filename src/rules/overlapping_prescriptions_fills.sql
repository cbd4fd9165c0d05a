-- The dispensing ids of each patient at the moments asked; $1 = country, $2 = patient pseudonyms, $3 = their
-- moments.
SELECT x.patient_pseudonym, array_agg(d.id ORDER BY d.id) AS ids
FROM unnest($2::bytea[], $3::timestamptz[]) AS x(patient_pseudonym, at)
JOIN counted_dispensings d ON d.country_code = $1 AND d.patient_pseudonym = x.patient_pseudonym AND d.dispensed_at = x.at
GROUP BY x.patient_pseudonym
