-- Funnel definitions (versioned), deals, the append-only transition log and its
-- projections, and the read model of leads built from the leads service's events.

CREATE TABLE funnels (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    version integer NOT NULL,
    -- Open a deal in the first stage when lead.created arrives.
    open_on_lead_created boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every version of every funnel's stage list; reports name the version they used.
CREATE TABLE funnel_versions (
    funnel_id uuid NOT NULL REFERENCES funnels (id),
    version integer NOT NULL,
    stages jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (funnel_id, version)
);

CREATE TABLE deals (
    id uuid PRIMARY KEY,
    funnel_id uuid NOT NULL REFERENCES funnels (id),
    funnel_version integer NOT NULL,
    external_id text,
    lead_id uuid,
    account_id uuid,
    campaign_id text,
    amount numeric,
    currency text,
    expected_close date,
    owner text,
    methodology text NOT NULL DEFAULT 'none',
    stakeholders jsonb NOT NULL DEFAULT '[]',
    -- Breakdown attributes known at creation or import (source, channel, segment, ...).
    attributes jsonb NOT NULL DEFAULT '{}',
    products jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    -- Projections of the transition log: rebuilt exactly by a replay.
    stage text NOT NULL,
    stage_entered_at timestamptz NOT NULL,
    opened_at timestamptz NOT NULL,
    closed_at timestamptz,
    status text NOT NULL DEFAULT 'open',
    close_reason text,
    transition_count integer NOT NULL DEFAULT 0,
    UNIQUE (funnel_id, external_id)
);
CREATE INDEX deals_lead ON deals (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX deals_funnel_opened ON deals (funnel_id, opened_at);

-- The source of truth: never updated, never deleted (the trigger below refuses).
CREATE TABLE transitions (
    deal_id uuid NOT NULL REFERENCES deals (id),
    seq integer NOT NULL,
    from_stage text,
    to_stage text NOT NULL,
    at timestamptz NOT NULL,
    reason text,
    origin text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (deal_id, seq)
);

CREATE FUNCTION transitions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'transitions is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER transitions_append_only
    BEFORE UPDATE OR DELETE ON transitions
    FOR EACH ROW EXECUTE FUNCTION transitions_append_only();

-- What this service knows of leads, from lead.created / lead.updated: breakdown attributes.
CREATE TABLE lead_facts (
    lead_id uuid PRIMARY KEY,
    source text,
    campaign_id text,
    channel text,
    owner text,
    segment text,
    account_id uuid,
    created_at timestamptz NOT NULL
);

-- Lifecycle and qualification events for leads not yet known here (lead.created not yet
-- consumed): applied when it arrives, so the outcome does not depend on arrival order.
CREATE TABLE pending_lead_moves (
    event_id text PRIMARY KEY,
    lead_id uuid NOT NULL,
    lifecycle_stage text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX pending_lead_moves_lead ON pending_lead_moves (lead_id);

-- The two seeded funnels.
INSERT INTO funnels (id, name, version, open_on_lead_created) VALUES
    ('00000000-0000-4000-8000-00000000b2b0', 'B2B sales', 1, true),
    ('00000000-0000-4000-8000-0000000000a1', 'Marketing', 1, false);
INSERT INTO funnel_versions (funnel_id, version, stages) VALUES
    ('00000000-0000-4000-8000-00000000b2b0', 1,
     '[{"name":"lead","optional":false,"lifecycle":"lead"},
       {"name":"mql","optional":false,"lifecycle":"mql"},
       {"name":"sql","optional":false,"lifecycle":"sql","on_qualified":true},
       {"name":"opportunity","optional":false,"lifecycle":"opportunity"},
       {"name":"won","optional":false}]'),
    ('00000000-0000-4000-8000-0000000000a1', 1,
     '[{"name":"awareness","optional":false},
       {"name":"interest","optional":false},
       {"name":"consideration","optional":false},
       {"name":"intent","optional":false},
       {"name":"evaluation","optional":false},
       {"name":"purchase","optional":false}]');
