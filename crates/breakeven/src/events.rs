//! Consumed events: touchpoint costs become campaign spend, won deals become revenue
//! (per campaign and per company month), attributed conversions become campaign revenue.
//! Each is applied in the consumer's transaction, with the inbox row, in any order.

use contracts::RawEvent;
use contracts::funnel::DealWon;
use contracts::touchpoints::{ConversionAttributed, TouchpointRecorded};
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError, decode, decode_batch};

use crate::Tracking;
use crate::usecases::{deals, spend};

pub struct BreakevenHandler {
    tracking: Tracking,
    /// Touchpoints with a cost but no campaign: counted, not errors.
    costs_without_campaign: prometheus::IntCounter,
}

impl BreakevenHandler {
    pub fn new(tracking: Tracking) -> Self {
        BreakevenHandler {
            tracking,
            costs_without_campaign: prometheus::IntCounter::new(
                "breakeven_costs_without_campaign_total",
                "touchpoint.recorded events with a cost but no campaign_id",
            )
            .expect("valid metric"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![Box::new(self.costs_without_campaign.clone())]
    }

    fn touchpoints(
        &self,
        conn: &mut PgConnection,
        touches: &[TouchpointRecorded],
    ) -> Result<(), HandlerError> {
        let orphans = touches
            .iter()
            .filter(|t| t.campaign_id.is_none() && t.cost.is_some_and(|c| !c.is_zero()))
            .count();
        self.costs_without_campaign.inc_by(orphans as u64);
        spend::record_costs(conn, touches, &self.tracking).map_err(HandlerError::classify)?;
        Ok(())
    }
}

impl EventHandler for BreakevenHandler {
    fn bindings(&self) -> Vec<String> {
        platform::bus::topology::bindings_of(contracts::catalog::Service::Breakeven)
    }

    #[tracing::instrument(skip_all, fields(event_type = %event.ty, event_id = %event.id))]
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        match event.ty.as_str() {
            t if t == <TouchpointRecorded as contracts::EventPayload>::TYPE => {
                self.touchpoints(conn, &[decode(event)?])
            }
            t if t == <DealWon as contracts::EventPayload>::TYPE => {
                let d: DealWon = decode(event)?;
                deals::record_deal(conn, &d, &self.tracking).map_err(HandlerError::classify)
            }
            t if t == <ConversionAttributed as contracts::EventPayload>::TYPE => {
                let c: ConversionAttributed = decode(event)?;
                deals::record_attribution(conn, &c, &self.tracking).map_err(HandlerError::classify)
            }
            other => {
                tracing::debug!(event_type = other, "event not handled by breakeven");
                Ok(())
            }
        }
    }

    /// Touchpoints arrive hundreds per message: their costs are summed per campaign and
    /// applied with one upsert per campaign.
    fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[&RawEvent],
    ) -> Result<(), HandlerError> {
        if let Some(touches) = decode_batch::<TouchpointRecorded>(events)? {
            return self.touchpoints(conn, &touches);
        }
        events.iter().try_for_each(|e| self.handle(conn, e))
    }
}
