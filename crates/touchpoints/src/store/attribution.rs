//! Stored journeys for attribution: won and lost deals with the lead's touches in the
//! lookback window before each, one row per touch.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::attribution::JourneyTouch;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    conversion_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Numeric>)]
    value: Option<Decimal>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    converted_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    channel: String,
    #[diesel(sql_type = Nullable<Text>)]
    campaign_id: Option<String>,
    #[diesel(sql_type = Text)]
    touch_type: String,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
}

/// The touches of every won or lost deal converted in `[from, to)` (open ends unbounded),
/// ordered by conversion time, conversion, touch time and touch id. Deals whose lead has no
/// touch in the window have no rows.
pub fn journey_touches(
    conn: &mut PgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    lookback_days: u32,
) -> QueryResult<Vec<JourneyTouch>> {
    load(conn, from, to, lookback_days, None)
}

/// The touches of one conversion's journey, in touch order (none when the deal is not won
/// or lost, or its lead has no touch in the window).
pub fn conversion_touches(
    conn: &mut PgConnection,
    conversion: Uuid,
    lookback_days: u32,
) -> QueryResult<Vec<JourneyTouch>> {
    load(conn, None, None, lookback_days, Some(conversion))
}

fn load(
    conn: &mut PgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    lookback_days: u32,
    conversion: Option<Uuid>,
) -> QueryResult<Vec<JourneyTouch>> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.id AS conversion_id, c.kind, c.value, c.currency, c.converted_at, \
                t.channel, t.campaign_id, t.touch_type, t.occurred_at \
         FROM conversions c JOIN touchpoints t ON t.lead_id = c.lead_id \
           AND t.occurred_at BETWEEN c.converted_at - make_interval(days => $3) AND c.converted_at \
         WHERE c.kind IN ('won', 'lost') AND c.lead_id IS NOT NULL \
           AND ($1::timestamptz IS NULL OR c.converted_at >= $1) \
           AND ($2::timestamptz IS NULL OR c.converted_at < $2) \
           AND ($4::uuid IS NULL OR c.id = $4) \
         ORDER BY c.converted_at, c.id, t.occurred_at, t.id",
    )
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .bind::<Integer, _>(i32::try_from(lookback_days).unwrap_or(i32::MAX))
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(conversion)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| JourneyTouch {
            conversion_id: r.conversion_id,
            kind: r.kind,
            value: r.value,
            currency: r.currency,
            converted_at: r.converted_at,
            channel: r.channel,
            campaign_id: r.campaign_id,
            touch_type: r.touch_type,
            occurred_at: r.occurred_at,
        })
        .collect())
}
