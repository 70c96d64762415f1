//! The funnel's deals as far as they concern a lead: whether each is an opportunity, won or
//! lost.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::deals;

/// Records that the deal exists for this lead (once; later calls change nothing).
pub fn record(conn: &mut PgConnection, deal_id: Uuid, lead_id: Uuid) -> QueryResult<()> {
    diesel::insert_into(deals::table)
        .values((deals::deal_id.eq(deal_id), deals::lead_id.eq(lead_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(drop)
}

/// Whether the deal is an opportunity as of `at`, unless a later move is already recorded.
pub fn set_staged(
    conn: &mut PgConnection,
    deal_id: Uuid,
    opportunity: bool,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        deals::table
            .find(deal_id)
            .filter(deals::stage_at.is_null().or(deals::stage_at.le(at))),
    )
    .set((deals::opportunity.eq(opportunity), deals::stage_at.eq(at)))
    .execute(conn)
    .map(drop)
}

pub fn set_won(conn: &mut PgConnection, deal_id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(deals::table.find(deal_id))
        .set(deals::won_at.eq(at))
        .execute(conn)
        .map(drop)
}

pub fn set_lost(
    conn: &mut PgConnection,
    deal_id: Uuid,
    at: DateTime<Utc>,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(deals::table.find(deal_id))
        .set((deals::lost_at.eq(at), deals::lost_reason.eq(reason)))
        .execute(conn)
        .map(drop)
}

/// Moves the deal to another lead (the survivor of a merge).
pub fn reassign(conn: &mut PgConnection, deal_id: Uuid, lead_id: Uuid) -> QueryResult<()> {
    diesel::update(deals::table.find(deal_id))
        .set(deals::lead_id.eq(lead_id))
        .execute(conn)
        .map(drop)
}

/// Where a deal stands.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deals)]
pub struct DealState {
    pub won_at: Option<DateTime<Utc>>,
    pub lost_at: Option<DateTime<Utc>>,
    pub lost_reason: Option<String>,
    pub opportunity: bool,
}

/// Every deal of the lead.
pub fn of_lead(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<DealState>> {
    deals::table
        .filter(deals::lead_id.eq(lead_id))
        .select(DealState::as_select())
        .load(conn)
}
