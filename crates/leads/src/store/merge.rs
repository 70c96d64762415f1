//! What a merged lead owns moves to its survivor: lifecycle and score history, engagement
//! touches, deals, and its MEDDICC card when the survivor has none.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{deals, engagement_touches, lifecycle_history, score_history};

pub fn move_records(conn: &mut PgConnection, from_id: Uuid, survivor_id: Uuid) -> QueryResult<()> {
    diesel::update(lifecycle_history::table.filter(lifecycle_history::lead_id.eq(from_id)))
        .set(lifecycle_history::lead_id.eq(survivor_id))
        .execute(conn)?;
    diesel::update(score_history::table.filter(score_history::lead_id.eq(from_id)))
        .set(score_history::lead_id.eq(survivor_id))
        .execute(conn)?;
    diesel::update(engagement_touches::table.filter(engagement_touches::lead_id.eq(from_id)))
        .set(engagement_touches::lead_id.eq(survivor_id))
        .execute(conn)?;
    // The survivor keeps its own MEDDICC card; the duplicate's moves over only if it has none.
    diesel::sql_query(
        "UPDATE meddicc_cards SET lead_id = $1 WHERE lead_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM meddicc_cards WHERE lead_id = $1)",
    )
    .bind::<diesel::sql_types::Uuid, _>(survivor_id)
    .bind::<diesel::sql_types::Uuid, _>(from_id)
    .execute(conn)?;
    diesel::update(deals::table.filter(deals::lead_id.eq(from_id)))
        .set(deals::lead_id.eq(survivor_id))
        .execute(conn)
        .map(drop)
}
