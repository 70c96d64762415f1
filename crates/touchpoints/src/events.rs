//! Consumed events: leads (created, merged) drive identity stitching; the funnel's won and
//! lost deals end journeys. Each is applied in the consumer's transaction with its inbox row,
//! and the outcome does not depend on the order events arrive in. A newly recorded won deal
//! is attributed and `conversion.attributed` queued in the same transaction, so a redelivered
//! `deal.won` publishes nothing twice.

use std::sync::Arc;

use contracts::RawEvent;
use contracts::funnel::{DealLost, DealWon};
use contracts::leads::{LeadCreated, LeadMerged};
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError};

use crate::config::TouchpointsConfig;
use crate::store::attribution::{WonDeal, attribute_won_deal};
use crate::store::conversions::{DealOutcome, record_deal};
use crate::store::identity;

pub struct TouchpointsHandler {
    config: Arc<TouchpointsConfig>,
    stitched: prometheus::IntCounter,
}

impl Default for TouchpointsHandler {
    fn default() -> Self {
        Self::new(Arc::new(TouchpointsConfig::default()))
    }
}

impl TouchpointsHandler {
    pub fn new(config: Arc<TouchpointsConfig>) -> Self {
        TouchpointsHandler {
            config,
            stitched: prometheus::IntCounter::new(
                "touchpoints_stitched_total",
                "Anonymous touchpoints tied to a lead after they were stored",
            )
            .expect("valid metric"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![Box::new(self.stitched.clone())]
    }
}

fn is<T: contracts::EventPayload>(event: &RawEvent) -> bool {
    event.ty == T::TYPE
}

fn decode<T: contracts::EventPayload>(event: &RawEvent) -> Result<T, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Permanent(e.to_string()))
}

impl EventHandler for TouchpointsHandler {
    fn bindings(&self) -> Vec<String> {
        [
            <LeadCreated as contracts::EventPayload>::TYPE,
            <LeadMerged as contracts::EventPayload>::TYPE,
            <DealWon as contracts::EventPayload>::TYPE,
            <DealLost as contracts::EventPayload>::TYPE,
        ]
        .map(String::from)
        .to_vec()
    }

    #[tracing::instrument(skip_all, fields(event_type = %event.ty, event_id = %event.id))]
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        if is::<LeadCreated>(event) {
            let l: LeadCreated = decode(event)?;
            identity::lock(conn)?;
            let n = identity::lead_created(
                conn,
                l.lead_id,
                Some(l.email.as_str()),
                l.anonymous_id.as_deref(),
            )?;
            self.stitched.inc_by(n as u64);
        } else if is::<LeadMerged>(event) {
            let m: LeadMerged = decode(event)?;
            identity::lock(conn)?;
            identity::lead_merged(
                conn,
                m.lead_id,
                m.merged_lead_id,
                Some(m.merged_email.as_str()),
                m.merged_anonymous_id.as_deref(),
                m.merged_at,
            )?;
        } else if is::<DealWon>(event) {
            let d: DealWon = decode(event)?;
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
                let trace = event
                    .traceparent
                    .as_deref()
                    .and_then(platform::TraceContext::continue_from);
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
                    &self.config.attribution,
                    self.config.lookback_days,
                    trace.as_ref(),
                )?;
            }
        } else if is::<DealLost>(event) {
            let d: DealLost = decode(event)?;
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
        } else {
            tracing::debug!(event_type = %event.ty, "event not handled by touchpoints");
        }
        Ok(())
    }
}
