-- Products sold: price and variable cost per unit, in one currency.
CREATE TABLE products (
    id             UUID        PRIMARY KEY,
    name           TEXT        NOT NULL,
    price          NUMERIC     NOT NULL CHECK (price >= 0),
    variable_cost  NUMERIC     NOT NULL CHECK (variable_cost >= 0),
    currency       TEXT        NOT NULL,
    version        INTEGER     NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- Fixed-cost items: an amount per month, quarter or year.
CREATE TABLE fixed_costs (
    id          UUID        PRIMARY KEY,
    name        TEXT        NOT NULL,
    amount      NUMERIC     NOT NULL CHECK (amount >= 0),
    period      TEXT        NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    currency    TEXT        NOT NULL,
    version     INTEGER     NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Campaigns, keyed by the id the other services put in `campaign_id`.
CREATE TABLE campaigns (
    id              TEXT        PRIMARY KEY,
    name            TEXT        NOT NULL,
    budget          NUMERIC     NOT NULL CHECK (budget >= 0),
    currency        TEXT        NOT NULL,
    starts_on       DATE        NOT NULL,
    ends_on         DATE        NOT NULL,
    -- [{"product_id": "...", "share": "0.6"}, ...]
    product_mix     JSONB       NOT NULL,
    risk_threshold  NUMERIC     NOT NULL,
    version         INTEGER     NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Saved calculator inputs and results; a new version per save.
CREATE TABLE scenarios (
    id          UUID        NOT NULL,
    version     INTEGER     NOT NULL,
    name        TEXT        NOT NULL,
    inputs      JSONB       NOT NULL,
    results     JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, version)
);

-- Live tracking (from events). Kept by campaign id string, whether or not the campaign
-- is defined yet.
CREATE TABLE campaign_spend (
    campaign_id     TEXT        NOT NULL,
    currency        TEXT        NOT NULL,
    spend           NUMERIC     NOT NULL DEFAULT 0,
    touches         BIGINT      NOT NULL DEFAULT 0,
    first_at        TIMESTAMPTZ NOT NULL,
    last_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, currency)
);

-- One row per won deal (a deal counts once, whatever events repeat it).
CREATE TABLE won_deals (
    deal_id       UUID        PRIMARY KEY,
    campaign_id   TEXT,
    amount        NUMERIC     NOT NULL,
    currency      TEXT        NOT NULL,
    won_at        TIMESTAMPTZ NOT NULL,
    period        TEXT        NOT NULL,
    -- Contribution from the product lines where known, else null (the company's average
    -- CM ratio applies at evaluation).
    contribution  NUMERIC,
    products      JSONB       NOT NULL DEFAULT '[]'
);
CREATE INDEX won_deals_campaign ON won_deals (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX won_deals_period ON won_deals (period, currency);

-- Attributed conversions: one per (deal, model); the latest replaces earlier ones.
CREATE TABLE conversions (
    deal_id        UUID        NOT NULL,
    model          TEXT        NOT NULL,
    conversion_id  UUID        NOT NULL,
    value          NUMERIC     NOT NULL,
    currency       TEXT        NOT NULL,
    converted_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (deal_id, model)
);

-- Campaign credits of each attributed conversion.
CREATE TABLE attributions (
    deal_id      UUID    NOT NULL,
    model        TEXT    NOT NULL,
    campaign_id  TEXT    NOT NULL,
    value        NUMERIC NOT NULL,
    currency     TEXT    NOT NULL,
    PRIMARY KEY (deal_id, model, campaign_id)
);
CREATE INDEX attributions_campaign ON attributions (campaign_id);

-- Alert state per campaign: break-even once ever; at-risk per crossing.
CREATE TABLE campaign_alerts (
    campaign_id            TEXT        PRIMARY KEY,
    breakeven_reached_at   TIMESTAMPTZ,
    at_risk                BOOLEAN     NOT NULL DEFAULT false,
    at_risk_alerts         INTEGER     NOT NULL DEFAULT 0
);

-- Company periods (months) whose contribution covered their fixed costs.
CREATE TABLE company_periods (
    period      TEXT        NOT NULL,
    currency    TEXT        NOT NULL,
    reached_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (period, currency)
);
