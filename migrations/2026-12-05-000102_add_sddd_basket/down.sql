ALTER TABLE substances DROP COLUMN in_sddd_basket;
