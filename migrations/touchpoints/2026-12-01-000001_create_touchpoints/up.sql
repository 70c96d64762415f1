-- Touchpoints, as ingested. Few indexes on purpose: bulk ingest pays for every one.
CREATE TABLE touchpoints (
    id            UUID        PRIMARY KEY,
    occurred_at   TIMESTAMPTZ NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    channel       TEXT        NOT NULL,
    touch_type    TEXT        NOT NULL,
    campaign_id   TEXT,
    creative_id   TEXT,
    content_id    TEXT,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_term      TEXT,
    utm_content   TEXT,
    anonymous_id  TEXT,
    lead_id       UUID,
    email         TEXT,
    account_id    UUID,
    affiliate_id  TEXT,
    cost          NUMERIC,
    currency      TEXT,
    properties    JSONB
);
-- Journeys: a lead's touches in time order.
CREATE INDEX touchpoints_lead_time ON touchpoints (lead_id, occurred_at) WHERE lead_id IS NOT NULL;
-- Stitching: only touches not yet tied to a lead are ever looked up by identity.
CREATE INDEX touchpoints_unstitched_anonymous ON touchpoints (anonymous_id)
    WHERE lead_id IS NULL AND anonymous_id IS NOT NULL;
CREATE INDEX touchpoints_unstitched_email ON touchpoints (email)
    WHERE lead_id IS NULL AND email IS NOT NULL;

-- Identity map: which lead an anonymous id or an email belongs to (from lead.created and
-- lead.merged); applied at ingest and when a lead appears.
CREATE TABLE identities (
    kind     TEXT NOT NULL CHECK (kind IN ('anonymous_id', 'email')),
    value    TEXT NOT NULL,
    lead_id  UUID NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_lead ON identities (lead_id);

-- Merged leads and the live lead that survived them (chains are flattened).
CREATE TABLE lead_merges (
    merged_lead_id  UUID PRIMARY KEY,
    survivor_id     UUID NOT NULL,
    merged_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_merges_survivor ON lead_merges (survivor_id);

-- Ends of journeys: won deals (conversions), lost deals (null paths) and micro-conversions
-- (configured touch types). A journey is the lead's touches in the lookback window before
-- `converted_at`.
CREATE TABLE conversions (
    id             UUID        PRIMARY KEY,
    kind           TEXT        NOT NULL CHECK (kind IN ('won', 'lost', 'micro')),
    deal_id        UUID,
    touchpoint_id  UUID,
    lead_id        UUID,
    value          NUMERIC,
    currency       TEXT,
    campaign_id    TEXT,
    converted_at   TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'micro') = (touchpoint_id IS NOT NULL)),
    CHECK ((kind = 'micro') = (deal_id IS NULL))
);
CREATE UNIQUE INDEX conversions_deal_kind ON conversions (deal_id, kind) WHERE deal_id IS NOT NULL;
CREATE UNIQUE INDEX conversions_touchpoint ON conversions (touchpoint_id) WHERE touchpoint_id IS NOT NULL;
CREATE INDEX conversions_lead_time ON conversions (lead_id, converted_at);
CREATE INDEX conversions_time ON conversions (converted_at);

-- Affiliate terms.
CREATE TABLE affiliates (
    id                     TEXT        PRIMARY KEY,
    name                   TEXT,
    model                  TEXT        NOT NULL CHECK (model IN ('flat_cpa', 'flat_cpl', 'revenue_share')),
    amount                 NUMERIC,
    revenue_share_percent  NUMERIC,
    currency               TEXT        NOT NULL,
    cookie_window_days     INTEGER     NOT NULL DEFAULT 30 CHECK (cookie_window_days > 0),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
