-- A stand-in service table: one row per applied event, so tests can count effects, and
-- the transaction that applied it.
CREATE TABLE effects (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    -- A rule the data can break: an event for a lead named `check` is refused by it.
    first_name text CHECK (first_name IS DISTINCT FROM 'check'),
    txid bigint NOT NULL DEFAULT txid_current()
);
