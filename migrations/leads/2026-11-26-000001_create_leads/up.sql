-- Leads: people who showed interest. Email is stored normalised and is unique.
CREATE TABLE leads (
    id               UUID        PRIMARY KEY,
    email            TEXT        NOT NULL UNIQUE,
    first_name       TEXT,
    last_name        TEXT,
    title            TEXT,
    company          TEXT,
    source           TEXT        NOT NULL,
    campaign_id      TEXT,
    anonymous_id     TEXT,
    affiliate_id     TEXT,
    lifecycle_stage  TEXT        NOT NULL DEFAULT 'lead',
    version          INTEGER     NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX leads_created_at ON leads (created_at);
CREATE INDEX leads_campaign ON leads (campaign_id) WHERE campaign_id IS NOT NULL;
