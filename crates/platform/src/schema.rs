//! Diesel schema of the platform-owned tables (see migrations/platform).

diesel::table! {
    outbox (id) {
        id -> Int8,
        message_id -> Uuid,
        routing_key -> Text,
        content_type -> Text,
        body -> Bytea,
        event_count -> Int4,
        traceparent -> Nullable<Text>,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    inbox (event_id) {
        event_id -> Uuid,
        event_type -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        headers -> Jsonb,
        body -> Bytea,
        created_at -> Timestamptz,
    }
}
