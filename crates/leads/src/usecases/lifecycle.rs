//! Moving a lead between lifecycle stages: checked by the domain's rule, recorded with time
//! and cause, and published as `lead.lifecycle_changed`.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use uuid::Uuid;

use super::live;
use super::now;
use crate::domain::lifecycle::{MoveKind, Stage, check_move};
use crate::error::LeadsError;
use crate::store::LeadRow;
use crate::store::lifecycle::{self as store, NewStageChange, StageChange};

/// A stage change to make: where to, why, and when.
#[derive(Debug, Clone)]
pub struct StageMove<'a> {
    pub to: Stage,
    /// Free text; required to recycle a lead back to `lead`.
    pub reason: Option<&'a str>,
    /// What made the move: `manual`, `score`, `qualified`, `deal_won`, ….
    pub cause: &'a str,
    /// The deal whose event caused the move.
    pub deal_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl<'a> StageMove<'a> {
    pub fn new(to: Stage, cause: &'a str, at: DateTime<Utc>) -> Self {
        StageMove {
            to,
            reason: None,
            cause,
            deal_id: None,
            at,
        }
    }
}

/// Moves a lead if the lifecycle rules allow it (an illegal move is an error), records the
/// change, keeps the first-reached times, and publishes `lead.lifecycle_changed`.
pub fn change_stage(
    conn: &mut PgConnection,
    mut lead: LeadRow,
    m: &StageMove<'_>,
    trace: Option<&TraceContext>,
) -> Result<LeadRow, LeadsError> {
    let (from, to, at) = (lead.stage(), m.to, m.at);
    let kind = check_move(from, to, m.reason)?;
    if to.reaches(Stage::Mql) {
        lead.mql_at = lead.mql_at.or(Some(at));
    }
    if to.reaches(Stage::Sql) {
        lead.sql_at = lead.sql_at.or(Some(at));
    }
    if to.reaches(Stage::Customer) {
        lead.customer_at = lead.customer_at.or(Some(at));
    }
    lead.lifecycle_stage = to.as_str().to_string();
    lead.version += 1;
    lead.updated_at = now();
    crate::store::leads::save_stage(conn, &lead)?;
    let reason = m.reason.map(str::trim).filter(|r| !r.is_empty());
    store::record(
        conn,
        &NewStageChange {
            lead_id: lead.id,
            from_stage: Some(from.as_str()),
            to_stage: to.as_str(),
            cause: m.cause,
            reason,
            deal_id: m.deal_id,
            at,
        },
    )?;
    let cause = match kind {
        MoveKind::Recycle if m.cause == "manual" => "recycle",
        _ => m.cause,
    };
    let event = contracts::leads::LeadLifecycleChanged {
        lead_id: lead.id,
        from_stage: from.as_str().to_string(),
        to_stage: to.as_str().to_string(),
        cause: cause.to_string(),
        reason: reason.map(str::to_string),
        deal_id: m.deal_id,
        changed_at: at,
    };
    outbox::enqueue(conn, &event, trace)?;
    Ok(lead)
}

/// The record of the stage a new lead starts in (written with its siblings in one
/// statement by the create).
pub(crate) fn creation(lead: &LeadRow) -> NewStageChange<'_> {
    NewStageChange {
        lead_id: lead.id,
        from_stage: None,
        to_stage: &lead.lifecycle_stage,
        cause: "created",
        reason: None,
        deal_id: None,
        at: lead.created_at,
    }
}

/// `POST /v1/leads/{id}/lifecycle`: a manual move.
pub fn move_lead(
    conn: &mut PgConnection,
    id: Uuid,
    to: Stage,
    reason: Option<&str>,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    conn.transaction(|tx| {
        let lead = live::lock(tx, id)?;
        let m = StageMove {
            reason,
            ..StageMove::new(to, "manual", Utc::now())
        };
        change_stage(tx, lead, &m, Some(trace))
    })
}

/// Up to `limit` changes of a live lead's lifecycle history after `after`, oldest first.
pub fn history(
    conn: &mut PgConnection,
    id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<StageChange>, LeadsError> {
    live::find(conn, id)?;
    Ok(store::history(conn, id, after, limit)?)
}
