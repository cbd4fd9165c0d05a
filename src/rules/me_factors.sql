-- The CTE me (substance_id, me_factor): each substance's morphine-equivalent factor in force on $4 (a date).
me AS (
    SELECT DISTINCT ON (v.substance_id) v.substance_id, v.me_factor
    FROM substance_reference_values v WHERE v.effective_from <= $4
    ORDER BY v.substance_id, v.effective_from DESC, v.id DESC)
