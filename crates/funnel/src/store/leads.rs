//! What the funnel knows of leads, from the leads service's events: breakdown attributes,
//! and lifecycle moves that arrived before the lead did.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{lead_facts, pending_lead_moves};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = lead_facts, treat_none_as_null = true)]
pub struct LeadFacts {
    pub lead_id: Uuid,
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub channel: Option<String>,
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub account_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Records or refreshes a lead's attributes.
pub fn upsert(conn: &mut PgConnection, facts: &LeadFacts) -> QueryResult<()> {
    diesel::insert_into(lead_facts::table)
        .values(facts)
        .on_conflict(lead_facts::lead_id)
        .do_update()
        .set(facts)
        .execute(conn)?;
    Ok(())
}

pub fn known(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(lead_facts::table.find(lead_id))).get_result(conn)
}

/// Keeps a lifecycle move of a lead not known yet.
pub fn park(
    conn: &mut PgConnection,
    event_id: &str,
    lead_id: Uuid,
    stage: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(pending_lead_moves::table)
        .values((
            pending_lead_moves::event_id.eq(event_id),
            pending_lead_moves::lead_id.eq(lead_id),
            pending_lead_moves::lifecycle_stage.eq(stage),
            pending_lead_moves::at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Takes the parked moves of a lead, in time order.
pub fn unpark(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    let moves = pending_lead_moves::table
        .filter(pending_lead_moves::lead_id.eq(lead_id))
        .order((pending_lead_moves::at, pending_lead_moves::event_id))
        .select((pending_lead_moves::lifecycle_stage, pending_lead_moves::at))
        .load(conn)?;
    diesel::delete(pending_lead_moves::table.filter(pending_lead_moves::lead_id.eq(lead_id)))
        .execute(conn)?;
    Ok(moves)
}

pub fn find(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Option<LeadFacts>> {
    lead_facts::table
        .find(lead_id)
        .select(LeadFacts::as_select())
        .first(conn)
        .optional()
}
