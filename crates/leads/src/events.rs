//! Consumed events: touchpoints feed engagement; the funnel's deal events move leads to
//! `opportunity`, `customer`, or back to `lead`. Each is applied in the consumer's
//! transaction (with the inbox row), and in any order.

use contracts::RawEvent;
use contracts::funnel::{DealCreated, DealLost, DealStageChanged, DealWon};
use contracts::touchpoints::TouchpointRecorded;
use diesel::PgConnection;
use platform::bus::consumer::{EventHandler, HandlerError, decode, decode_batch};

use crate::usecases::deals::{self, DealFact};
use crate::usecases::engagement;

pub struct LeadsHandler {
    /// Touchpoints that matched no lead: counted, not errors.
    unmatched: prometheus::IntCounter,
}

impl Default for LeadsHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl LeadsHandler {
    pub fn new() -> Self {
        LeadsHandler {
            unmatched: prometheus::IntCounter::new(
                "leads_touchpoints_unmatched_total",
                "touchpoint.recorded events that matched no lead (by lead_id or email)",
            )
            .expect("valid metric"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![Box::new(self.unmatched.clone())]
    }
}

impl EventHandler for LeadsHandler {
    fn bindings(&self) -> Vec<String> {
        platform::bus::topology::bindings_of(contracts::catalog::Service::Leads)
    }

    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let result = match event.ty.as_str() {
            t if t == <TouchpointRecorded as contracts::EventPayload>::TYPE => {
                let touches = [decode(event)?];
                engagement::record_touches(conn, &touches)
                    .map(|unmatched| self.unmatched.inc_by(unmatched))
            }
            t if t == <DealCreated as contracts::EventPayload>::TYPE => {
                let d: DealCreated = decode(event)?;
                let fact = DealFact::Staged(d.created_at, d.stage);
                deals::apply(conn, d.deal_id, d.lead_id, fact)
            }
            t if t == <DealStageChanged as contracts::EventPayload>::TYPE => {
                let d: DealStageChanged = decode(event)?;
                let fact = DealFact::Staged(d.changed_at, d.to_stage);
                deals::apply(conn, d.deal_id, d.lead_id, fact)
            }
            t if t == <DealWon as contracts::EventPayload>::TYPE => {
                let d: DealWon = decode(event)?;
                deals::apply(conn, d.deal_id, d.lead_id, DealFact::Won(d.won_at))
            }
            t if t == <DealLost as contracts::EventPayload>::TYPE => {
                let d: DealLost = decode(event)?;
                let fact = DealFact::Lost(d.lost_at, d.reason);
                deals::apply(conn, d.deal_id, d.lead_id, fact)
            }
            other => {
                tracing::debug!(event_type = other, "event not handled by leads");
                Ok(())
            }
        };
        result.map_err(HandlerError::classify)
    }

    /// A batch of touchpoints (the touchpoints service publishes them 100s per message) is
    /// applied with a few set-based statements; anything else one by one.
    fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[&RawEvent],
    ) -> Result<(), HandlerError> {
        if let Some(touches) = decode_batch::<TouchpointRecorded>(events)? {
            let unmatched =
                engagement::record_touches(conn, &touches).map_err(HandlerError::classify)?;
            self.unmatched.inc_by(unmatched);
            return Ok(());
        }
        events.iter().try_for_each(|e| self.handle(conn, e))
    }
}
