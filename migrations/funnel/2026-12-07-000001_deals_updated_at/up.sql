-- When a deal last changed: opened, moved, revalued by a move, or its projections rebuilt.
-- `GET /v1/deals` sorts on it and on created_at (`sort`), and syncs from it
-- (`updated_since`). A deal already here last changed at its latest recorded move.
ALTER TABLE deals ADD COLUMN updated_at timestamptz;
UPDATE deals d SET updated_at = greatest(
    d.created_at,
    (SELECT max(t.recorded_at) FROM transitions t WHERE t.deal_id = d.id)
);
ALTER TABLE deals ALTER COLUMN updated_at SET NOT NULL;

-- The keysets of the sorts: the value, then id.
CREATE INDEX deals_created_id ON deals (created_at, id);
CREATE INDEX deals_updated_id ON deals (updated_at, id);
