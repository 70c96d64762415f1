ALTER TABLE meddicc_cards DROP COLUMN version;
