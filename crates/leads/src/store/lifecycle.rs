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

/// The lifecycle history of a lead, oldest first.
pub fn history(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<StageChange>> {
    lifecycle_history::table
        .filter(lifecycle_history::lead_id.eq(lead_id))
        .order(lifecycle_history::id)
        .select(StageChange::as_select())
        .load(conn)
}
