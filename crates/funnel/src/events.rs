//! Consumed events: `lead.created` opens deals in funnels configured to, and records the
//! lead's breakdown attributes; `lead.lifecycle_changed` and `lead.qualified` advance the
//! lead's deals to the stage mirroring the lifecycle stage. Moves land at the event's time,
//! so the log (and every projection) is the same whatever order the events arrive in.

use chrono::{DateTime, Utc};
use contracts::RawEvent;
use contracts::leads::{LeadCreated, LeadLifecycleChanged, LeadQualified, LeadUpdated};
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError};
use uuid::Uuid;

use crate::domain::deal::NewDeal;
use crate::domain::log::{Entry, stage_at};
use crate::error::FunnelError;
use crate::store::deals::{self, Move, Origin};
use crate::store::funnels;
use crate::store::leads::{self, LeadFacts};

/// The pseudo lifecycle stage `lead.qualified` maps to (stages with `on_qualified`).
const QUALIFIED: &str = "(qualified)";

#[derive(Default)]
pub struct FunnelHandler;

impl EventHandler for FunnelHandler {
    fn bindings(&self) -> Vec<String> {
        [
            <LeadCreated as contracts::EventPayload>::TYPE,
            <LeadUpdated as contracts::EventPayload>::TYPE,
            <LeadLifecycleChanged as contracts::EventPayload>::TYPE,
            <LeadQualified as contracts::EventPayload>::TYPE,
        ]
        .map(String::from)
        .to_vec()
    }

    #[tracing::instrument(skip_all, fields(event_type = %event.ty, event_id = %event.id))]
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let result = match event.ty.as_str() {
            t if t == <LeadCreated as contracts::EventPayload>::TYPE => {
                lead_created(conn, decode(event)?)
            }
            t if t == <LeadUpdated as contracts::EventPayload>::TYPE => {
                lead_updated(conn, decode(event)?)
            }
            t if t == <LeadLifecycleChanged as contracts::EventPayload>::TYPE => {
                let e: LeadLifecycleChanged = decode(event)?;
                lead_moved(
                    conn,
                    &event.id.to_string(),
                    e.lead_id,
                    &e.to_stage,
                    e.changed_at,
                )
            }
            t if t == <LeadQualified as contracts::EventPayload>::TYPE => {
                let e: LeadQualified = decode(event)?;
                lead_moved(
                    conn,
                    &event.id.to_string(),
                    e.lead_id,
                    QUALIFIED,
                    e.qualified_at,
                )
            }
            other => return Err(HandlerError::Permanent(format!("unexpected type {other}"))),
        };
        result.map_err(|e| match e {
            FunnelError::Unexpected(e) => HandlerError::Transient(e),
            other => HandlerError::Permanent(other.to_string()),
        })
    }
}

fn decode<T: serde::de::DeserializeOwned>(event: &RawEvent) -> Result<T, HandlerError> {
    serde_json::from_value(event.data.clone())
        .map_err(|e| HandlerError::Permanent(format!("bad {} data: {e}", event.ty)))
}

fn segment_of(properties: &serde_json::Value) -> Option<String> {
    properties
        .get("segment")
        .and_then(|s| s.as_str())
        .map(str::to_string)
}

fn lead_created(conn: &mut PgConnection, e: LeadCreated) -> Result<(), FunnelError> {
    let facts = LeadFacts {
        lead_id: e.lead_id,
        source: Some(e.source.clone()),
        campaign_id: e.campaign_id.clone(),
        channel: e.utm_medium.clone(),
        owner: e.owner.clone(),
        segment: segment_of(&e.properties),
        account_id: e.account_id,
        created_at: e.created_at,
    };
    leads::upsert(conn, &facts)?;
    let existing = deals::of_lead(conn, e.lead_id)?;
    for funnel in funnels::lead_driven(conn)? {
        if !funnel.def.open_on_lead_created || existing.iter().any(|d| d.funnel_id == funnel.id) {
            continue;
        }
        let attributes = [
            ("source", facts.source.clone()),
            ("campaign", facts.campaign_id.clone()),
            ("channel", facts.channel.clone()),
            ("owner", facts.owner.clone()),
            ("segment", facts.segment.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
        let deal = NewDeal {
            funnel_id: funnel.id,
            external_id: None,
            lead_id: Some(e.lead_id),
            account_id: e.account_id,
            campaign_id: e.campaign_id.clone(),
            amount: None,
            expected_close: None,
            owner: e.owner.clone(),
            methodology: "none".into(),
            stakeholders: Vec::new(),
            products: Vec::new(),
            attributes,
            stage: None,
            opened_at: Some(e.created_at.min(Utc::now())),
        };
        deals::create(conn, &deal, Origin::LeadEvent, None)?;
    }
    for (stage, at) in leads::unpark(conn, e.lead_id)? {
        advance(conn, e.lead_id, &stage, at)?;
    }
    Ok(())
}

fn lead_updated(conn: &mut PgConnection, e: LeadUpdated) -> Result<(), FunnelError> {
    // Only refreshes what breakdowns read; a lead not seen yet waits for lead.created.
    let Some(mut facts) = leads::find(conn, e.lead_id)? else {
        return Ok(());
    };
    facts.source = Some(e.source);
    facts.campaign_id = e.campaign_id;
    facts.channel = e.utm_medium;
    facts.owner = e.owner;
    facts.segment = segment_of(&e.properties);
    facts.account_id = e.account_id;
    leads::upsert(conn, &facts)?;
    Ok(())
}

fn lead_moved(
    conn: &mut PgConnection,
    event_id: &str,
    lead_id: Uuid,
    lifecycle: &str,
    at: DateTime<Utc>,
) -> Result<(), FunnelError> {
    if leads::known(conn, lead_id)? {
        advance(conn, lead_id, lifecycle, at)
    } else {
        leads::park(conn, event_id, lead_id, lifecycle, at)?;
        Ok(())
    }
}

/// Moves each deal of the lead forward to the stage mirroring `lifecycle`, at `at`. Lead
/// events only advance: a deal already at or past that stage at that time stays, and they
/// never close a deal (winning needs an amount; losing needs a reason).
fn advance(
    conn: &mut PgConnection,
    lead_id: Uuid,
    lifecycle: &str,
    at: DateTime<Utc>,
) -> Result<(), FunnelError> {
    for deal in deals::of_lead(conn, lead_id)? {
        let Some(def) = funnels::version_def(conn, deal.funnel_id, deal.funnel_version)? else {
            continue;
        };
        let Some(target) = def.stages.iter().position(|s| {
            if lifecycle == QUALIFIED {
                s.on_qualified
            } else {
                s.lifecycle.as_deref() == Some(lifecycle)
            }
        }) else {
            continue;
        };
        if def.is_terminal(&def.stages[target].name) {
            continue;
        }
        let log: Vec<Entry> = deals::log_of(conn, deal.id)?
            .into_iter()
            .map(|t| Entry {
                seq: t.seq,
                to_stage: t.to_stage,
                at: t.at,
                reason: t.reason,
            })
            .collect();
        let Some(current) = stage_at(&log, at) else {
            continue;
        };
        if def.is_terminal(&current.to_stage) {
            continue;
        }
        let here = def.index_of(&current.to_stage);
        if here.is_some_and(|h| h >= target) {
            continue;
        }
        let m = Move {
            to_stage: def.stages[target].name.clone(),
            at: Some(at.min(Utc::now())),
            reason: Some(if lifecycle == QUALIFIED {
                "lead qualified".to_string()
            } else {
                format!("lead lifecycle moved to {lifecycle}")
            }),
            amount: None,
            products: Vec::new(),
        };
        deals::transition(conn, deal.id, &m, Origin::LeadEvent, None)?;
    }
    Ok(())
}
