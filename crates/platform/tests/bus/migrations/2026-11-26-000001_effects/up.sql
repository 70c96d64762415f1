-- A stand-in service table: one row per applied event, so tests can count effects.
CREATE TABLE effects (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    first_name text
);
