//! Diesel schema of the break-even service's own tables (migrations/breakeven).

diesel::table! {
    products (id) {
        id -> Uuid,
        name -> Text,
        price -> Numeric,
        variable_cost -> Numeric,
        currency -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    fixed_costs (id) {
        id -> Uuid,
        name -> Text,
        amount -> Numeric,
        period -> Text,
        currency -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        name -> Text,
        budget -> Numeric,
        currency -> Text,
        starts_on -> Date,
        ends_on -> Date,
        product_mix -> Jsonb,
        risk_threshold -> Numeric,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    scenarios (id, version) {
        id -> Uuid,
        version -> Int4,
        name -> Text,
        inputs -> Jsonb,
        results -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    campaign_spend (campaign_id, currency) {
        campaign_id -> Text,
        currency -> Text,
        spend -> Numeric,
        touches -> Int8,
        first_at -> Timestamptz,
        last_at -> Timestamptz,
    }
}

diesel::table! {
    won_deals (deal_id) {
        deal_id -> Uuid,
        campaign_id -> Nullable<Text>,
        amount -> Numeric,
        currency -> Text,
        won_at -> Timestamptz,
        period -> Text,
        contribution -> Nullable<Numeric>,
        products -> Jsonb,
    }
}

diesel::table! {
    conversions (deal_id, model) {
        deal_id -> Uuid,
        model -> Text,
        conversion_id -> Uuid,
        value -> Numeric,
        currency -> Text,
        converted_at -> Timestamptz,
    }
}

diesel::table! {
    attributions (deal_id, model, campaign_id) {
        deal_id -> Uuid,
        model -> Text,
        campaign_id -> Text,
        value -> Numeric,
        currency -> Text,
    }
}

diesel::table! {
    campaign_alerts (campaign_id) {
        campaign_id -> Text,
        breakeven_reached_at -> Nullable<Timestamptz>,
        at_risk -> Bool,
        at_risk_alerts -> Int4,
    }
}

diesel::table! {
    company_periods (period, currency) {
        period -> Text,
        currency -> Text,
        reached_at -> Timestamptz,
    }
}
