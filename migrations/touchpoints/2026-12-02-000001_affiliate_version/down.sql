ALTER TABLE affiliates DROP COLUMN version;
