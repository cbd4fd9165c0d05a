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

-- The daily MME of the dispensings recorded so far is recomputed by the labelled strength in
-- the time-zone migration (2026-12-05-000201), once each country's local days are known.
