//! Diesel schema of the leads service's own tables.

diesel::table! {
    leads (id) {
        id -> Uuid,
        email -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        title -> Nullable<Text>,
        company -> Nullable<Text>,
        source -> Text,
        campaign_id -> Nullable<Text>,
        anonymous_id -> Nullable<Text>,
        affiliate_id -> Nullable<Text>,
        lifecycle_stage -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        phone -> Nullable<Text>,
        account_id -> Nullable<Uuid>,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Nullable<Text>,
        utm_term -> Nullable<Text>,
        utm_content -> Nullable<Text>,
        owner -> Nullable<Text>,
        consent -> Bool,
        properties -> Jsonb,
        merged_into -> Nullable<Uuid>,
        fit -> Float8,
        engagement -> Float8,
        engagement_as_of -> Nullable<Timestamptz>,
        grade -> Nullable<Text>,
        mql_at -> Nullable<Timestamptz>,
        sql_at -> Nullable<Timestamptz>,
        customer_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Uuid,
        name -> Text,
        industry -> Nullable<Text>,
        employees -> Nullable<Int4>,
        annual_revenue -> Nullable<Numeric>,
        currency -> Nullable<Text>,
        region -> Nullable<Text>,
        abm_tier -> Text,
        target -> Bool,
        owner -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    account_domains (domain) {
        domain -> Text,
        account_id -> Uuid,
    }
}

diesel::table! {
    lifecycle_history (id) {
        id -> Int8,
        lead_id -> Uuid,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        cause -> Text,
        reason -> Nullable<Text>,
        deal_id -> Nullable<Uuid>,
        at -> Timestamptz,
    }
}

diesel::table! {
    scoring_models (version) {
        version -> Int4,
        model -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    qualification_rules (version) {
        version -> Int4,
        rule -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    score_history (id) {
        id -> Int8,
        lead_id -> Uuid,
        fit -> Float8,
        engagement -> Float8,
        grade -> Text,
        model_version -> Int4,
        cause -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    engagement_touches (touchpoint_id) {
        touchpoint_id -> Uuid,
        lead_id -> Uuid,
        account_id -> Nullable<Uuid>,
        touch_type -> Text,
        channel -> Text,
        points -> Float8,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    meddicc_cards (lead_id) {
        lead_id -> Uuid,
        card -> Jsonb,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    deals (deal_id) {
        deal_id -> Uuid,
        lead_id -> Uuid,
        created_at -> Nullable<Timestamptz>,
        won_at -> Nullable<Timestamptz>,
        lost_at -> Nullable<Timestamptz>,
        lost_reason -> Nullable<Text>,
        opportunity -> Bool,
        stage_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(leads -> accounts (account_id));
diesel::joinable!(account_domains -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    leads,
    accounts,
    account_domains,
    lifecycle_history,
    scoring_models,
    qualification_rules,
    score_history,
    engagement_touches,
    deals,
    meddicc_cards,
);
