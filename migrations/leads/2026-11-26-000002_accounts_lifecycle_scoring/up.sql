-- Accounts (ABM): a company we sell to, matched to leads by email domain.
CREATE TABLE accounts (
    id               UUID        PRIMARY KEY,
    name             TEXT        NOT NULL,
    industry         TEXT,
    employees        INTEGER,
    -- Unconstrained scale: the amount reads back exactly as it was written.
    annual_revenue   NUMERIC,
    currency         TEXT,
    region           TEXT,
    abm_tier         TEXT        NOT NULL DEFAULT 'none',
    target           BOOLEAN     NOT NULL DEFAULT false,
    owner            TEXT,
    version          INTEGER     NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_target ON accounts (abm_tier) WHERE target;

-- A domain belongs to at most one account; lead emails are matched through it.
CREATE TABLE account_domains (
    domain      TEXT PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX account_domains_account ON account_domains (account_id);

ALTER TABLE leads
    ADD COLUMN phone            TEXT,
    ADD COLUMN account_id       UUID REFERENCES accounts (id),
    ADD COLUMN utm_source       TEXT,
    ADD COLUMN utm_medium       TEXT,
    ADD COLUMN utm_campaign     TEXT,
    ADD COLUMN utm_term         TEXT,
    ADD COLUMN utm_content      TEXT,
    ADD COLUMN owner            TEXT,
    ADD COLUMN consent          BOOLEAN          NOT NULL DEFAULT false,
    ADD COLUMN properties       JSONB            NOT NULL DEFAULT '{}',
    -- Set when this lead was merged into another; reads redirect there.
    ADD COLUMN merged_into      UUID,
    -- Scores: fit from attributes, engagement as a decayed sum kept as (value, as_of).
    ADD COLUMN fit              DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN engagement       DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN engagement_as_of TIMESTAMPTZ,
    ADD COLUMN grade            TEXT,
    -- First time the lead reached each stage or a later one (reports' conversion rates).
    ADD COLUMN mql_at           TIMESTAMPTZ,
    ADD COLUMN sql_at           TIMESTAMPTZ,
    ADD COLUMN customer_at      TIMESTAMPTZ;

-- A lead's MEDDICC (or MEDDPICC) card.
CREATE TABLE meddicc_cards (
    lead_id     UUID        PRIMARY KEY REFERENCES leads (id),
    card        JSONB       NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX leads_account ON leads (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX leads_stage ON leads (lifecycle_stage);
CREATE INDEX leads_anonymous ON leads (anonymous_id) WHERE anonymous_id IS NOT NULL;

-- Every lifecycle change, with time and cause.
CREATE TABLE lifecycle_history (
    id          BIGSERIAL   PRIMARY KEY,
    lead_id     UUID        NOT NULL REFERENCES leads (id),
    from_stage  TEXT,
    to_stage    TEXT        NOT NULL,
    cause       TEXT        NOT NULL,
    reason      TEXT,
    deal_id     UUID,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX lifecycle_history_lead ON lifecycle_history (lead_id, at);

-- The scoring model is data: every version is kept; the highest is current.
CREATE TABLE scoring_models (
    version     SERIAL      PRIMARY KEY,
    model       JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The MEDDICC qualification rule is data too; the highest version is current.
CREATE TABLE qualification_rules (
    version     SERIAL      PRIMARY KEY,
    rule        JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Score history: one row per change of a lead's scores.
CREATE TABLE score_history (
    id             BIGSERIAL        PRIMARY KEY,
    lead_id        UUID             NOT NULL REFERENCES leads (id),
    fit            DOUBLE PRECISION NOT NULL,
    engagement     DOUBLE PRECISION NOT NULL,
    grade          TEXT             NOT NULL,
    model_version  INTEGER          NOT NULL,
    cause          TEXT             NOT NULL,
    at             TIMESTAMPTZ      NOT NULL
);
CREATE INDEX score_history_lead ON score_history (lead_id, at);

-- Engagement-earning touches, one per consumed touchpoint (dedup by touchpoint id).
CREATE TABLE engagement_touches (
    touchpoint_id  UUID             PRIMARY KEY,
    lead_id        UUID             NOT NULL REFERENCES leads (id),
    account_id     UUID,
    touch_type     TEXT             NOT NULL,
    channel        TEXT             NOT NULL,
    points         DOUBLE PRECISION NOT NULL,
    occurred_at    TIMESTAMPTZ      NOT NULL
);
CREATE INDEX engagement_touches_lead ON engagement_touches (lead_id, occurred_at);
CREATE INDEX engagement_touches_account ON engagement_touches (account_id, occurred_at) WHERE account_id IS NOT NULL;

-- What this service knows of each deal from the funnel's events, whatever order they
-- came in: the lead's stage is derived from its deals (won -> customer, open ->
-- opportunity, all lost -> recycled), so a late or early event cannot misplace it.
CREATE TABLE deals (
    deal_id      UUID        PRIMARY KEY,
    lead_id      UUID        NOT NULL,
    created_at   TIMESTAMPTZ,
    won_at       TIMESTAMPTZ,
    lost_at      TIMESTAMPTZ,
    lost_reason  TEXT
);
CREATE INDEX deals_lead ON deals (lead_id);
