//! The funnel's deals move their lead's lifecycle: to `opportunity`, to `customer`, or back
//! to `lead` when every deal is lost. Facts arrive in any order, in the consumer's
//! transaction.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::lifecycle::{self, StageMove};
use crate::domain::lifecycle::{Stage, check_move};
use crate::error::LeadsError;
use crate::store;

/// Funnel stages before a deal is an opportunity: those mirroring the lifecycle stages
/// before `opportunity`, and the top of the marketing funnel.
const PRE_OPPORTUNITY: [&str; 7] = [
    "subscriber",
    "lead",
    "mql",
    "sql",
    "awareness",
    "interest",
    "consideration",
];

/// What a deal event says about the deal.
#[derive(Debug, Clone)]
pub enum DealFact {
    /// Opened in, or moved to, a stage at a time (moves may arrive in any order).
    Staged(DateTime<Utc>, String),
    Won(DateTime<Utc>),
    Lost(DateTime<Utc>, String),
}

/// Records what the event says about the deal, then moves the lead to the stage its deals
/// imply: any won deal → `customer`; any open deal → `opportunity`; only lost deals →
/// recycled to `lead` (never a customer). Illegal moves (e.g. a disqualified lead's deal)
/// are skipped, not errors.
pub fn apply(
    conn: &mut PgConnection,
    deal_id: Uuid,
    lead_id: Option<Uuid>,
    fact: DealFact,
) -> Result<(), LeadsError> {
    let Some(lead_id) = lead_id else {
        return Ok(());
    };
    store::deals::record(conn, deal_id, lead_id)?;
    let at = match &fact {
        DealFact::Staged(at, stage) => {
            // Only the latest move in time says whether the deal is an opportunity now.
            let opportunity = !PRE_OPPORTUNITY.contains(&stage.as_str());
            store::deals::set_staged(conn, deal_id, opportunity, *at)?;
            *at
        }
        DealFact::Won(at) => {
            store::deals::set_won(conn, deal_id, *at)?;
            *at
        }
        DealFact::Lost(at, reason) => {
            store::deals::set_lost(conn, deal_id, *at, reason)?;
            *at
        }
    };
    let Some(mut lead) = store::leads::find(conn, lead_id)? else {
        // The deal is kept; the stage follows if the lead appears (e.g. through a merge).
        return Ok(());
    };
    if let Some(survivor) = lead.merged_into {
        store::deals::reassign(conn, deal_id, survivor)?;
        lead = store::leads::find(conn, survivor)?.ok_or(LeadsError::NotFound(survivor))?;
    }
    store::leads::lock(conn, lead.id)?.ok_or(diesel::result::Error::NotFound)?;
    let deals = store::deals::of_lead(conn, lead.id)?;
    let open = |d: &&store::deals::DealState| d.won_at.is_none() && d.lost_at.is_none();
    let (to, reason) = if deals.iter().any(|d| d.won_at.is_some()) {
        (Stage::Customer, None)
    } else if deals.iter().filter(open).any(|d| d.opportunity) {
        (Stage::Opportunity, None)
    } else if deals.iter().any(|d| open(&d)) {
        // Only deals before opportunity are open: nothing to say about the lead yet.
        return Ok(());
    } else {
        let reason = deals
            .iter()
            .find_map(|d| d.lost_reason.clone())
            .unwrap_or_else(|| "deal lost".to_string());
        (Stage::Lead, Some(format!("deal lost: {reason}")))
    };
    let from = lead.stage();
    let allowed = match to {
        // Recycle only leads that a deal had moved on; never customers.
        Stage::Lead => matches!(from, Stage::Opportunity | Stage::Sql | Stage::Mql),
        _ => from.is_before(to),
    };
    if allowed && check_move(from, to, reason.as_deref()).is_ok() {
        let cause = match to {
            Stage::Customer => "deal_won",
            Stage::Opportunity => "deal_created",
            _ => "deal_lost",
        };
        let m = StageMove {
            reason: reason.as_deref(),
            deal_id: Some(deal_id),
            ..StageMove::new(to, cause, at)
        };
        lifecycle::change_stage(conn, lead, &m, None)?;
    }
    Ok(())
}
