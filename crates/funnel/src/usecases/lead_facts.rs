//! What the leads service's events do here, in the consumer's transaction: `lead.created`
//! records the lead's breakdown attributes and opens deals in funnels configured to;
//! `lead.updated` refreshes the attributes; lifecycle moves (and qualification) advance the
//! lead's deals to the stage mirroring them, or wait for the lead when it is not known yet.
//! Moves land at the event's time, so the log is the same whatever order events arrive in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::leads::{LeadCreated, LeadUpdated};
use diesel::PgConnection;
use uuid::Uuid;

use super::deals;
use crate::domain::deal::NewDeal;
use crate::domain::funnel::QUALIFIED;
use crate::domain::log::{self, Entry, Move, Origin};
use crate::error::FunnelError;
use crate::store::deals as deal_store;
use crate::store::funnels;
use crate::store::leads::{self as store, LeadFacts};

fn segment_of(properties: &serde_json::Value) -> Option<String> {
    properties
        .get("segment")
        .and_then(|s| s.as_str())
        .map(str::to_string)
}

/// The breakdown attributes a deal opened for a lead carries.
fn attributes(facts: &LeadFacts) -> BTreeMap<String, String> {
    [
        ("source", &facts.source),
        ("campaign", &facts.campaign_id),
        ("channel", &facts.channel),
        ("owner", &facts.owner),
        ("segment", &facts.segment),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
    .collect()
}

pub fn lead_created(conn: &mut PgConnection, e: LeadCreated) -> Result<(), FunnelError> {
    let facts = LeadFacts {
        lead_id: e.lead_id,
        source: Some(e.source),
        campaign_id: e.campaign_id,
        channel: e.utm_medium,
        owner: e.owner,
        segment: segment_of(&e.properties),
        account_id: e.account_id,
        created_at: e.created_at,
    };
    store::upsert(conn, &facts)?;
    let existing = deal_store::of_lead(conn, e.lead_id)?;
    let funnels = funnels::list(conn)?;
    for funnel in funnels.iter().filter(|f| f.def.open_on_lead_created) {
        if existing.iter().any(|d| d.funnel_id == funnel.id) {
            continue;
        }
        let deal = NewDeal {
            funnel_id: funnel.id,
            lead_id: Some(e.lead_id),
            account_id: facts.account_id,
            campaign_id: facts.campaign_id.clone(),
            owner: facts.owner.clone(),
            methodology: "none".into(),
            attributes: attributes(&facts),
            opened_at: Some(e.created_at.min(Utc::now())),
            ..NewDeal::default()
        };
        deals::create(conn, &deal, Origin::LeadEvent, None)?;
    }
    for (stage, at) in store::unpark(conn, e.lead_id)? {
        advance(conn, e.lead_id, &stage, at)?;
    }
    Ok(())
}

pub fn lead_updated(conn: &mut PgConnection, e: LeadUpdated) -> Result<(), FunnelError> {
    // Only refreshes what breakdowns read; a lead not seen yet waits for lead.created.
    let Some(mut facts) = store::find(conn, e.lead_id)? else {
        return Ok(());
    };
    facts.source = Some(e.source);
    facts.campaign_id = e.campaign_id;
    facts.channel = e.utm_medium;
    facts.owner = e.owner;
    facts.segment = segment_of(&e.properties);
    facts.account_id = e.account_id;
    store::upsert(conn, &facts)?;
    Ok(())
}

/// A lead's lifecycle moved to `lifecycle` (or [`QUALIFIED`]) at `at`: its deals advance,
/// or the move waits for the lead when it is not known yet.
pub fn lead_moved(
    conn: &mut PgConnection,
    event_id: &str,
    lead_id: Uuid,
    lifecycle: &str,
    at: DateTime<Utc>,
) -> Result<(), FunnelError> {
    if store::known(conn, lead_id)? {
        advance(conn, lead_id, lifecycle, at)
    } else {
        store::park(conn, event_id, lead_id, lifecycle, at)?;
        Ok(())
    }
}

/// Moves each deal of the lead forward to the stage mirroring `lifecycle`, at `at`.
fn advance(
    conn: &mut PgConnection,
    lead_id: Uuid,
    lifecycle: &str,
    at: DateTime<Utc>,
) -> Result<(), FunnelError> {
    for deal in deal_store::of_lead(conn, lead_id)? {
        let Some(def) = funnels::version_def(conn, deal.funnel_id, deal.funnel_version)? else {
            continue;
        };
        let Some(target) = def.mirroring(lifecycle) else {
            continue;
        };
        let entries: Vec<Entry> = deal_store::log_of(conn, deal.id)?
            .iter()
            .map(|t| t.entry())
            .collect();
        if !log::lead_advances(&def, &entries, target, at) {
            continue;
        }
        let reason = if lifecycle == QUALIFIED {
            "lead qualified".to_string()
        } else {
            format!("lead lifecycle moved to {lifecycle}")
        };
        let m = Move::to(
            def.stages[target].name.clone(),
            at.min(Utc::now()),
            Some(reason),
        );
        deals::transition(conn, deal.id, &m, Origin::LeadEvent, None)?;
    }
    Ok(())
}
