-- Labelled strength of a product: mg of the salt or ester named on the pack ("morphine
-- sulfate 10 mg"), the quantity the CDC 2022 MME factors apply to. `base_mg_per_unit` stays
-- the source of every INCB figure. Both NULL: the strength is unknown and the product's
-- dispensings get no daily MME.
ALTER TABLE products
    ADD COLUMN strength_mg_per_unit numeric(18, 6) CHECK (strength_mg_per_unit > 0),
    ADD COLUMN strength_salt        text CHECK (length(strength_salt) BETWEEN 1 AND 200),
    ADD CHECK ((strength_mg_per_unit IS NULL) = (strength_salt IS NULL));

-- Existing products were described by their base content only: where the substance's
-- reference salt and salt-to-base factor are known (the values in force today), the label
-- is taken to name that salt and its strength is base ÷ factor; the rest stay unknown.
WITH v AS (
    SELECT DISTINCT ON (r.substance_id) r.substance_id, r.reference_salt, r.salt_base_factor
    FROM substance_reference_values r
    WHERE r.effective_from <= current_date
    ORDER BY r.substance_id, r.effective_from DESC, r.id DESC)
UPDATE products p
SET strength_mg_per_unit = round(p.base_mg_per_unit / v.salt_base_factor, 6),
    strength_salt = v.reference_salt
FROM v
WHERE v.substance_id = p.substance_id AND v.reference_salt IS NOT NULL AND v.salt_base_factor IS NOT NULL;

-- The daily MME of the dispensings recorded so far, again by the labelled strength and the
-- factor in force on the (UTC) dispensing date; transdermal products by their delivery rate.
-- A derived figure, recomputed once here: the append-only guard is lifted for this only.
ALTER TABLE dispensings DISABLE TRIGGER dispensings_append_only;
UPDATE dispensings d
SET daily_mme = (
    SELECT CASE
        WHEN p.delivery_mcg_per_hour IS NOT NULL THEN round(p.delivery_mcg_per_hour * v.transdermal_mme_per_mcg_h, 4)
        ELSE round(p.strength_mg_per_unit * d.quantity_units / d.days_supply * v.me_factor, 4)
    END
    FROM products p
    LEFT JOIN LATERAL (
        SELECT r.me_factor, r.transdermal_mme_per_mcg_h
        FROM substance_reference_values r
        WHERE r.substance_id = p.substance_id AND r.effective_from <= (d.dispensed_at AT TIME ZONE 'UTC')::date
        ORDER BY r.effective_from DESC, r.id DESC
        LIMIT 1) v ON true
    WHERE p.id = d.product_id);
ALTER TABLE dispensings ENABLE TRIGGER dispensings_append_only;
