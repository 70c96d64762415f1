ALTER TABLE funnels DROP COLUMN revision;
