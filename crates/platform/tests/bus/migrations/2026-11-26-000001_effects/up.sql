-- A stand-in service table: one row per applied event, so tests can count effects, and
-- the transaction that applied it.
CREATE TABLE effects (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    first_name text,
    txid bigint NOT NULL DEFAULT txid_current()
);
