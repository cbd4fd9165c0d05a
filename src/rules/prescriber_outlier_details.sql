-- The largest dispensing ids, patients and facilities of the prescribers asked; $1 = country, $2 = from,
-- $3 = to (exclusive), $4 = ME factors' day, $5 = prescriber ids, $6 = how many ids; the me marker stands for
-- me_factors.sql.
WITH /*me*/
SELECT d.prescriber_id,
       (array_agg(d.id ORDER BY d.quantity_units * p.base_mg_per_unit * coalesce(me.me_factor, 0) DESC, d.id))[1:$6] AS ids,
       count(DISTINCT d.patient_pseudonym) AS patients, array_agg(DISTINCT d.facility_id) AS facility_ids
FROM counted_dispensings d
JOIN products p ON p.id = d.product_id
LEFT JOIN me ON me.substance_id = d.substance_id
WHERE d.country_code = $1 AND d.prescriber_id = ANY($5) AND d.dispensed_at >= $2 AND d.dispensed_at < $3
GROUP BY d.prescriber_id
