//! Won and lost deals from the funnel end journeys; a newly won deal is attributed (with the
//! model kept in memory) and `conversion.attributed` queued, all in the consumer's
//! transaction, so a redelivered `deal.won` publishes nothing twice.

use contracts::funnel::{DealLost, DealWon};
use diesel::prelude::*;
use platform::TraceContext;

use super::attribution::{WonDeal, attribute_won_deal};
use crate::config::TouchpointsConfig;
use crate::error::TouchpointsError;
use crate::store::conversions::{DealOutcome, record_deal};
use crate::usecases::deal_model::DealModel;

/// Records a won deal once and attributes it when its lead is known.
pub fn won(
    conn: &mut PgConnection,
    d: &DealWon,
    config: &TouchpointsConfig,
    model: &DealModel,
    trace: Option<&TraceContext>,
) -> Result<(), TouchpointsError> {
    let recorded = record_deal(
        conn,
        &DealOutcome {
            kind: "won",
            deal_id: d.deal_id,
            lead_id: d.lead_id,
            value: Some(d.amount),
            currency: Some(d.currency.as_str()),
            campaign_id: d.campaign_id.as_deref(),
            at: d.won_at,
        },
    )?;
    if let Some((conversion_id, Some(lead_id))) = recorded {
        attribute_won_deal(
            conn,
            &WonDeal {
                conversion_id,
                deal_id: d.deal_id,
                lead_id,
                value: d.amount,
                currency: d.currency.clone(),
                converted_at: d.won_at,
            },
            model,
            config.lookback_days,
            trace,
        )?;
    }
    Ok(())
}

/// Records a lost deal once: a journey that did not convert.
pub fn lost(conn: &mut PgConnection, d: &DealLost) -> QueryResult<()> {
    record_deal(
        conn,
        &DealOutcome {
            kind: "lost",
            deal_id: d.deal_id,
            lead_id: d.lead_id,
            value: d.amount,
            currency: d.currency.as_ref().map(|c| c.as_str()),
            campaign_id: d.campaign_id.as_deref(),
            at: d.lost_at,
        },
    )?;
    Ok(())
}
