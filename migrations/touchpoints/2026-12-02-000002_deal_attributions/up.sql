-- The attribution of each won deal, as published in conversion.attributed: one row per
-- model run for the conversion, so that GET /v1/deals/{id}/attribution answers what was
-- published (the credits would change if recomputed after later touches or deals).
CREATE TABLE deal_attributions (
    conversion_id  UUID        NOT NULL REFERENCES conversions (id),
    model          TEXT        NOT NULL,
    deal_id        UUID        NOT NULL,
    markov_order   SMALLINT,
    touch_count    INTEGER     NOT NULL,
    -- [{"channel", "campaign_id"?, "conversions", "value"}], decimals as strings.
    credits        JSONB       NOT NULL,
    attributed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (conversion_id, model)
);
CREATE INDEX deal_attributions_deal ON deal_attributions (deal_id);
