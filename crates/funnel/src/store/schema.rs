//! Diesel schema of the funnel service's own tables.

diesel::table! {
    funnels (id) {
        id -> Uuid,
        name -> Text,
        version -> Int4,
        open_on_lead_created -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        revision -> Int4,
    }
}

diesel::table! {
    funnel_versions (funnel_id, version) {
        funnel_id -> Uuid,
        version -> Int4,
        stages -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    deals (id) {
        id -> Uuid,
        funnel_id -> Uuid,
        funnel_version -> Int4,
        external_id -> Nullable<Text>,
        lead_id -> Nullable<Uuid>,
        account_id -> Nullable<Uuid>,
        campaign_id -> Nullable<Text>,
        amount -> Nullable<Numeric>,
        currency -> Nullable<Text>,
        expected_close -> Nullable<Date>,
        owner -> Nullable<Text>,
        methodology -> Text,
        stakeholders -> Jsonb,
        attributes -> Jsonb,
        products -> Jsonb,
        created_at -> Timestamptz,
        stage -> Text,
        stage_entered_at -> Timestamptz,
        opened_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        status -> Text,
        close_reason -> Nullable<Text>,
        transition_count -> Int4,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    transitions (deal_id, seq) {
        deal_id -> Uuid,
        seq -> Int4,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        at -> Timestamptz,
        reason -> Nullable<Text>,
        origin -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    lead_facts (lead_id) {
        lead_id -> Uuid,
        source -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        channel -> Nullable<Text>,
        owner -> Nullable<Text>,
        segment -> Nullable<Text>,
        account_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    pending_lead_moves (event_id) {
        event_id -> Text,
        lead_id -> Uuid,
        lifecycle_stage -> Text,
        at -> Timestamptz,
    }
}

diesel::joinable!(funnel_versions -> funnels (funnel_id));
diesel::joinable!(deals -> funnels (funnel_id));
diesel::joinable!(transitions -> deals (deal_id));
diesel::allow_tables_to_appear_in_same_query!(
    funnels,
    funnel_versions,
    deals,
    transitions,
    lead_facts,
    pending_lead_moves
);
