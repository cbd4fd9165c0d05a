-- The dispensing ids of the patients asked, with and without a daily MME; $1 = country, $2 = from, $3 = to
-- (exclusive), $4 = patient pseudonyms.
SELECT d.patient_pseudonym, coalesce(array_agg(d.id ORDER BY d.dispensed_at, d.id) FILTER (WHERE d.daily_mme IS NOT NULL), '{}') AS ids,
       coalesce(array_agg(d.id ORDER BY d.dispensed_at, d.id) FILTER (WHERE d.daily_mme IS NULL), '{}') AS without_mme
FROM counted_dispensings d
WHERE d.country_code = $1 AND d.patient_pseudonym = ANY($4) AND d.dispensed_at >= $2 AND d.dispensed_at < $3
GROUP BY d.patient_pseudonym
