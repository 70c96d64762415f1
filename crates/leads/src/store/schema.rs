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
    }
}
