DROP INDEX deals_updated_id;
DROP INDEX deals_created_id;
ALTER TABLE deals DROP COLUMN updated_at;
