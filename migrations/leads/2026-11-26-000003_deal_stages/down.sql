ALTER TABLE deals DROP COLUMN opportunity, DROP COLUMN stage_at;
