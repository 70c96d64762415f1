-- The funnel's revision: its ETag, bumped by every PUT. `version` numbers the stage lists
-- (a new name alone keeps it), so it cannot guard a rename against a lost update.
ALTER TABLE funnels ADD COLUMN revision integer NOT NULL DEFAULT 1;
