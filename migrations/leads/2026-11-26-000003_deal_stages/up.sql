-- A deal opened in a stage before opportunity (e.g. the B2B funnel opens one per new lead
-- in its `lead` stage) does not make its lead an opportunity until it moves on.
ALTER TABLE deals
    ADD COLUMN opportunity boolean NOT NULL DEFAULT true,
    ADD COLUMN stage_at timestamptz;
