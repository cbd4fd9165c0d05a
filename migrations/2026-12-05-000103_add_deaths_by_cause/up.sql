-- Deaths by cause per country and year, recorded by the ministry or regulator with their
-- source: the input of the morbidity-based estimate (INCB-WHO Guide 2012). A PUT replaces
-- the causes of one year; the audit log keeps the previous figures.
CREATE TABLE deaths_by_cause (
    country_code text NOT NULL REFERENCES countries (code) ON DELETE RESTRICT,
    year         integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    cause        text NOT NULL CHECK (cause ~ '^[a-z][a-z0-9_]{0,62}$'),
    deaths       bigint NOT NULL CHECK (deaths >= 0),
    source       text NOT NULL CHECK (length(source) BETWEEN 3 AND 500),
    recorded_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country_code, year, cause)
);

-- A parameter still at the value Tarozi ships is a default, and says so until an admin sets it.
ALTER TABLE analytics_parameters ADD COLUMN is_default boolean NOT NULL DEFAULT false;

-- The morbidity method's parameters: per cause the share of decedents needing opioid
-- treatment for moderate to severe pain and the days of treatment; per substance the mean
-- daily dose (mg of the substance). Shipped as defaults from the method's literature; the
-- ministry's own clinical figures replace them.
INSERT INTO analytics_parameters (code, value, unit, description, source, is_default) VALUES
  ('morbidity_cancer_share_needing_opioids', 0.8, 'fraction of deaths',
   'Share of cancer decedents who needed opioid treatment for moderate to severe pain',
   'Default: 80 % of cancer decedents (INCB-WHO Guide on Estimating Requirements, 2012, morbidity-based method; Seya et al. 2011) - confirm for your country', true),
  ('morbidity_cancer_treatment_days', 90, 'days',
   'Days of opioid treatment per cancer decedent who needed it',
   'Default: 90 days (INCB-WHO Guide 2012 morbidity-based method; Seya et al. 2011) - confirm for your country', true),
  ('morbidity_hiv_aids_share_needing_opioids', 0.5, 'fraction of deaths',
   'Share of HIV/AIDS decedents who needed opioid treatment for moderate to severe pain',
   'Default: 50 % of HIV/AIDS decedents (INCB-WHO Guide 2012 morbidity-based method; Seya et al. 2011) - confirm for your country', true),
  ('morbidity_hiv_aids_treatment_days', 90, 'days',
   'Days of opioid treatment per HIV/AIDS decedent who needed it',
   'Default: 90 days (INCB-WHO Guide 2012 morbidity-based method; Seya et al. 2011) - confirm for your country', true),
  ('morbidity_daily_dose_mg_morphine', 66.7, 'mg morphine per patient per day',
   'Mean daily dose of morphine in the morbidity-based estimate',
   'Default: 66.7 mg oral morphine a day (INCB-WHO Guide 2012 morbidity-based method; Seya et al. 2011) - confirm for your country', true);
UPDATE analytics_parameters SET is_default = true WHERE code IN ('need_reference_me_mg_per_capita', 'reserve_stock_months', 'days_of_stock_window');
