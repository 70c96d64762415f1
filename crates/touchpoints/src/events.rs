//! Consumed events: leads (created, merged) drive identity stitching; the funnel's won and
//! lost deals end journeys. Each is decoded here and applied by its use case in the
//! consumer's transaction with its inbox row; the outcome does not depend on the order events
//! arrive in.

use std::sync::Arc;

use contracts::RawEvent;
use contracts::funnel::{DealLost, DealWon};
use contracts::leads::{LeadCreated, LeadMerged};
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError, decode};

use crate::config::TouchpointsConfig;
use crate::usecases::deal_model::DealModel;
use crate::usecases::{deals, identity};

pub struct TouchpointsHandler {
    config: Arc<TouchpointsConfig>,
    /// The model won deals are attributed with, refreshed by [`tasks`](Self::tasks).
    model: Arc<DealModel>,
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
            model: Arc::new(DealModel::new(&config)),
            config,
            stitched: prometheus::IntCounter::new(
                "touchpoints_stitched_total",
                "Anonymous touchpoints tied to a lead after they were stored",
            )
            .expect("valid metric"),
        }
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        let mut collectors: Vec<Box<dyn prometheus::core::Collector>> =
            vec![Box::new(self.stitched.clone())];
        collectors.extend(self.model.collectors());
        collectors
    }

    /// The service's background tasks: the refresh of the won-deal model (when it is
    /// data-driven).
    pub fn tasks(&self) -> Vec<platform::BackgroundTask> {
        self.model.refresh_task().into_iter().collect()
    }
}

fn is<T: contracts::EventPayload>(event: &RawEvent) -> bool {
    event.ty == T::TYPE
}

impl EventHandler for TouchpointsHandler {
    fn bindings(&self) -> Vec<String> {
        platform::bus::topology::bindings_of(contracts::catalog::Service::Touchpoints)
    }

    #[tracing::instrument(skip_all, fields(event_type = %event.ty, event_id = %event.id))]
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        if is::<LeadCreated>(event) {
            let n = identity::lead_created(conn, &decode::<LeadCreated>(event)?)?;
            self.stitched.inc_by(n as u64);
        } else if is::<LeadMerged>(event) {
            identity::lead_merged(conn, &decode::<LeadMerged>(event)?)?;
        } else if is::<DealWon>(event) {
            let trace = event
                .traceparent
                .as_deref()
                .and_then(platform::TraceContext::continue_from);
            deals::won(
                conn,
                &decode(event)?,
                &self.config,
                &self.model,
                trace.as_ref(),
            )
            .map_err(HandlerError::classify)?;
        } else if is::<DealLost>(event) {
            deals::lost(conn, &decode::<DealLost>(event)?)?;
        } else {
            tracing::debug!(event_type = %event.ty, "event not handled by touchpoints");
        }
        Ok(())
    }
}
