//! Diesel schema of the touchpoints service's own tables.

diesel::table! {
    touchpoints (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        received_at -> Timestamptz,
        channel -> Text,
        touch_type -> Text,
        campaign_id -> Nullable<Text>,
        creative_id -> Nullable<Text>,
        content_id -> Nullable<Text>,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Nullable<Text>,
        utm_term -> Nullable<Text>,
        utm_content -> Nullable<Text>,
        anonymous_id -> Nullable<Text>,
        lead_id -> Nullable<Uuid>,
        email -> Nullable<Text>,
        account_id -> Nullable<Uuid>,
        affiliate_id -> Nullable<Text>,
        cost -> Nullable<Numeric>,
        currency -> Nullable<Text>,
        properties -> Nullable<Jsonb>,
    }
}

diesel::table! {
    identities (kind, value) {
        kind -> Text,
        value -> Text,
        lead_id -> Uuid,
    }
}

diesel::table! {
    lead_merges (merged_lead_id) {
        merged_lead_id -> Uuid,
        survivor_id -> Uuid,
        merged_at -> Timestamptz,
    }
}

diesel::table! {
    conversions (id) {
        id -> Uuid,
        kind -> Text,
        deal_id -> Nullable<Uuid>,
        touchpoint_id -> Nullable<Uuid>,
        lead_id -> Nullable<Uuid>,
        value -> Nullable<Numeric>,
        currency -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        converted_at -> Timestamptz,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    affiliates (id) {
        id -> Text,
        name -> Nullable<Text>,
        model -> Text,
        amount -> Nullable<Numeric>,
        revenue_share_percent -> Nullable<Numeric>,
        currency -> Text,
        cookie_window_days -> Int4,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    deal_attributions (conversion_id, model) {
        conversion_id -> Uuid,
        model -> Text,
        deal_id -> Uuid,
        markov_order -> Nullable<Int2>,
        touch_count -> Int4,
        credits -> Jsonb,
        attributed_at -> Timestamptz,
    }
}
