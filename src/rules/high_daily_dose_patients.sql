-- Patients outside cancer and palliative care above an average daily MME: MME total, days, average, supply
-- span, records, high; $1 = country, $2 = from, $3 = to (exclusive), $4 = mme_per_day, $5 = high_mme_per_day.
SELECT patient_pseudonym, mme_total, days, mme_total / days AS mme_per_day, first_at, supply_end,
       records, records_without_mme, mme_total / days >= $5::numeric AS high
FROM (
    SELECT d.patient_pseudonym,
           sum(d.daily_mme * d.days_supply) AS mme_total,
           greatest(extract(epoch FROM max(d.dispensed_at + d.days_supply * interval '86400 seconds') FILTER (WHERE d.daily_mme IS NOT NULL)
                                     - min(d.dispensed_at) FILTER (WHERE d.daily_mme IS NOT NULL)) / 86400, 1) AS days,
           min(d.dispensed_at) FILTER (WHERE d.daily_mme IS NOT NULL) AS first_at,
           max(d.dispensed_at + d.days_supply * interval '86400 seconds') FILTER (WHERE d.daily_mme IS NOT NULL) AS supply_end,
           count(d.daily_mme) AS records, count(*) - count(d.daily_mme) AS records_without_mme
    FROM counted_dispensings d
    WHERE d.country_code = $1 AND d.dispensed_at >= $2 AND d.dispensed_at < $3
    GROUP BY d.patient_pseudonym
    HAVING NOT bool_or(d.indication IN ('cancer', 'palliative')) AND count(d.daily_mme) > 0) x
WHERE mme_total / days > $4::numeric
