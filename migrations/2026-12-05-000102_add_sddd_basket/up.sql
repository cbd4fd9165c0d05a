-- The INCB opioid-analgesic basket: the substances whose S-DDDs make up the "availability"
-- total and its band (methadone for opioid agonist therapy, anaesthetics and non-controlled
-- analgesics do not). Substances shipped later (ketobemidone, tilidine) are seeded with it.
ALTER TABLE substances ADD COLUMN in_sddd_basket boolean NOT NULL DEFAULT false;
UPDATE substances SET in_sddd_basket = true
WHERE inn IN ('codeine', 'dextropropoxyphene', 'dihydrocodeine', 'fentanyl', 'hydromorphone', 'ketobemidone',
              'morphine', 'oxycodone', 'pethidine', 'tilidine', 'trimeperidine');
