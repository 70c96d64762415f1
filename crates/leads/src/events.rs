//! Consumed events: touchpoints feed engagement; the funnel's deal events move leads to
//! `opportunity`, `customer`, or back to `lead`. Each is applied in the consumer's
//! transaction (with the inbox row), and in any order.

use chrono::{DateTime, Utc};
use contracts::RawEvent;
use contracts::funnel::{DealCreated, DealLost, DealWon};
use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError};
use uuid::Uuid;

use crate::domain::lifecycle::{Stage, check_move};
use crate::error::LeadsError;
use crate::store::schema::{deals, engagement_touches, leads};
use crate::store::{self, LeadRow, scoring};

pub struct LeadsHandler;

impl EventHandler for LeadsHandler {
    fn bindings(&self) -> Vec<String> {
        vec![
            "touchstone.touchpoints.touchpoint.recorded.v1".into(),
            "touchstone.funnel.deal.created.v1".into(),
            "touchstone.funnel.deal.won.v1".into(),
            "touchstone.funnel.deal.lost.v1".into(),
        ]
    }

    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let result = match event.ty.as_str() {
            t if t == <TouchpointRecorded as contracts::EventPayload>::TYPE => {
                touchpoint(conn, &decode(event)?)
            }
            t if t == <DealCreated as contracts::EventPayload>::TYPE => {
                let d: DealCreated = decode(event)?;
                deal(conn, d.deal_id, d.lead_id, DealFact::Created(d.created_at))
            }
            t if t == <DealWon as contracts::EventPayload>::TYPE => {
                let d: DealWon = decode(event)?;
                deal(conn, d.deal_id, d.lead_id, DealFact::Won(d.won_at))
            }
            t if t == <DealLost as contracts::EventPayload>::TYPE => {
                let d: DealLost = decode(event)?;
                deal(
                    conn,
                    d.deal_id,
                    d.lead_id,
                    DealFact::Lost(d.lost_at, d.reason),
                )
            }
            other => {
                tracing::debug!(event_type = other, "event not handled by leads");
                Ok(())
            }
        };
        result.map_err(|e| match e {
            LeadsError::Unexpected(e) => HandlerError::Transient(e),
            other => HandlerError::Permanent(other.to_string()),
        })
    }
}

fn decode<T: contracts::EventPayload>(event: &RawEvent) -> Result<T, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Permanent(e.to_string()))
}

/// The live lead a touch belongs to: by `lead_id` (following merges), else by email.
fn lead_for_touch(conn: &mut PgConnection, t: &TouchpointRecorded) -> QueryResult<Option<LeadRow>> {
    let mut found = match t.lead_id {
        Some(id) => store::find_lead_raw(conn, id).map_err(into_query_error)?,
        None => None,
    };
    if found.is_none()
        && let Some(email) = &t.email
    {
        found = leads::table
            .filter(leads::email.eq(email.trim().to_lowercase()))
            .select(LeadRow::as_select())
            .first(conn)
            .optional()?;
    }
    // A merged lead's touches count for the survivor.
    for _ in 0..8 {
        match found {
            Some(LeadRow {
                merged_into: Some(survivor),
                ..
            }) => found = store::find_lead_raw(conn, survivor).map_err(into_query_error)?,
            _ => break,
        }
    }
    Ok(found)
}

fn into_query_error(e: LeadsError) -> diesel::result::Error {
    match e {
        LeadsError::Unexpected(e) => diesel::result::Error::QueryBuilderError(e.into()),
        other => diesel::result::Error::QueryBuilderError(other.to_string().into()),
    }
}

/// Adds the touch's points (from the scoring model) to the lead's decayed engagement. A
/// touch that matches no lead, or earns no points, is not an error.
fn touchpoint(conn: &mut PgConnection, t: &TouchpointRecorded) -> Result<(), LeadsError> {
    let Some(lead) = lead_for_touch(conn, t)? else {
        tracing::debug!(touchpoint = %t.touchpoint_id, "touchpoint matches no lead");
        return Ok(());
    };
    let (_, model) = scoring::current_model(conn)?;
    let Some(points) = model
        .touch_points(&t.touch_type, &t.channel)
        .filter(|p| *p != 0.0)
    else {
        return Ok(());
    };
    let inserted = diesel::insert_into(engagement_touches::table)
        .values((
            engagement_touches::touchpoint_id.eq(t.touchpoint_id),
            engagement_touches::lead_id.eq(lead.id),
            engagement_touches::account_id.eq(lead.account_id),
            engagement_touches::touch_type.eq(&t.touch_type),
            engagement_touches::channel.eq(&t.channel),
            engagement_touches::points.eq(points),
            engagement_touches::occurred_at.eq(t.occurred_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        // The same touchpoint in another event (a producer retry): counted once.
        return Ok(());
    }
    lock(conn, lead.id)?;
    let lead = store::find_lead_raw(conn, lead.id)?.ok_or(LeadsError::NotFound(lead.id))?;
    scoring::add_engagement(
        conn,
        lead,
        points,
        t.occurred_at,
        model.half_life_days,
        None,
    )?;
    Ok(())
}

fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    leads::table
        .find(id)
        .select(leads::id)
        .for_update()
        .first::<Uuid>(conn)
        .map(|_| ())
}

enum DealFact {
    Created(DateTime<Utc>),
    Won(DateTime<Utc>),
    Lost(DateTime<Utc>, String),
}

/// Records what the event says about the deal, then moves the lead to the stage its deals
/// imply: any won deal → `customer`; any open deal → `opportunity`; only lost deals →
/// recycled to `lead` (never a customer). Illegal moves (e.g. a disqualified lead's deal)
/// are skipped, not errors.
fn deal(
    conn: &mut PgConnection,
    deal_id: Uuid,
    lead_id: Option<Uuid>,
    fact: DealFact,
) -> Result<(), LeadsError> {
    let Some(lead_id) = lead_id else {
        return Ok(());
    };
    diesel::insert_into(deals::table)
        .values((deals::deal_id.eq(deal_id), deals::lead_id.eq(lead_id)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let target = deals::table.find(deal_id);
    let at = match &fact {
        DealFact::Created(at) => {
            diesel::update(target)
                .set(deals::created_at.eq(at))
                .execute(conn)?;
            *at
        }
        DealFact::Won(at) => {
            diesel::update(target)
                .set(deals::won_at.eq(at))
                .execute(conn)?;
            *at
        }
        DealFact::Lost(at, reason) => {
            diesel::update(target)
                .set((deals::lost_at.eq(at), deals::lost_reason.eq(reason)))
                .execute(conn)?;
            *at
        }
    };
    let Some(mut lead) = store::find_lead_raw(conn, lead_id)? else {
        // The deal is kept; the stage follows if the lead appears (e.g. through a merge).
        return Ok(());
    };
    if let Some(survivor) = lead.merged_into {
        diesel::update(deals::table.find(deal_id))
            .set(deals::lead_id.eq(survivor))
            .execute(conn)?;
        lead = store::find_lead_raw(conn, survivor)?.ok_or(LeadsError::NotFound(survivor))?;
    }
    lock(conn, lead.id)?;
    type DealState = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>);
    let all: Vec<DealState> = deals::table
        .filter(deals::lead_id.eq(lead.id))
        .select((deals::won_at, deals::lost_at, deals::lost_reason))
        .load(conn)?;
    let won = all.iter().any(|(w, _, _)| w.is_some());
    let open = all.iter().any(|(w, l, _)| w.is_none() && l.is_none());
    let (to, reason) = if won {
        (Stage::Customer, None)
    } else if open {
        (Stage::Opportunity, None)
    } else {
        let reason = all
            .iter()
            .filter_map(|(_, _, r)| r.clone())
            .next()
            .unwrap_or_else(|| "deal lost".to_string());
        (Stage::Lead, Some(format!("deal lost: {reason}")))
    };
    let from = lead.stage();
    let allowed = match to {
        // Recycle only leads that a deal had moved on; never customers.
        Stage::Lead => matches!(from, Stage::Opportunity | Stage::Sql | Stage::Mql),
        _ => from.rank().zip(to.rank()).is_some_and(|(f, t)| t > f),
    };
    if allowed && check_move(from, to, reason.as_deref()).is_ok() {
        let cause = match to {
            Stage::Customer => "deal_won",
            Stage::Opportunity => "deal_created",
            _ => "deal_lost",
        };
        store::change_stage(
            conn,
            lead,
            to,
            reason.as_deref(),
            cause,
            Some(deal_id),
            at,
            None,
        )?;
    }
    Ok(())
}
