-- The dispensings (time order) of the patients with enough prescriber-and-facility combinations;
-- $1 = country, $2 = look-back start, $3 = from, $4 = to (exclusive), $5 = prescribers, $6 = pharmacies; the
-- active marker stands for nothing or multiple_provider_episode_active.sql.
WITH combinations AS (
    SELECT d.patient_pseudonym, max(d.dispensed_at) AS last_at FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $4 /*active*/
    GROUP BY d.patient_pseudonym, d.prescriber_id, d.facility_id),
candidates AS (
    SELECT patient_pseudonym FROM combinations
    GROUP BY patient_pseudonym HAVING count(*) >= greatest($5, $6) AND max(last_at) >= $3)
SELECT d.id, d.patient_pseudonym, d.dispensed_at, d.prescriber_id, d.facility_id
FROM candidates c
JOIN counted_dispensings d ON d.country_code = $1 AND d.patient_pseudonym = c.patient_pseudonym
     AND d.dispensed_at >= $2 AND d.dispensed_at < $4
ORDER BY d.patient_pseudonym, d.dispensed_at, d.id
