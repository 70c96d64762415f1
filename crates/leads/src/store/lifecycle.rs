//! A lead's lifecycle history: one row per stage change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::lifecycle_history;

/// A stage change to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lifecycle_history)]
pub struct NewStageChange<'a> {
    pub lead_id: Uuid,
    /// `None` for the stage a lead was created in.
    pub from_stage: Option<&'a str>,
    pub to_stage: &'a str,
    pub cause: &'a str,
    pub reason: Option<&'a str>,
    pub deal_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// A recorded stage change.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lifecycle_history)]
pub struct StageChange {
    /// The change's place in the log: the key history is paged by.
    #[diesel(column_name = id)]
    pub seq: i64,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub cause: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

pub fn record(conn: &mut PgConnection, change: &NewStageChange<'_>) -> QueryResult<()> {
    diesel::insert_into(lifecycle_history::table)
        .values(change)
        .execute(conn)
        .map(drop)
}

/// Records many stage changes with one statement.
pub fn record_many(conn: &mut PgConnection, changes: &[NewStageChange<'_>]) -> QueryResult<()> {
    // 7 columns a row: within PostgreSQL's 65,535 bind parameters.
    for part in changes.chunks(9000) {
        diesel::insert_into(lifecycle_history::table)
            .values(part)
            .execute(conn)?;
    }
    Ok(())
}

/// Up to `limit` changes of a lead's lifecycle history after `after`, oldest first.
pub fn history(
    conn: &mut PgConnection,
    lead_id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<StageChange>> {
    let mut q = lifecycle_history::table
        .filter(lifecycle_history::lead_id.eq(lead_id))
        .order(lifecycle_history::id)
        .select(StageChange::as_select())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(lifecycle_history::id.gt(after));
    }
    q.load(conn)
}
