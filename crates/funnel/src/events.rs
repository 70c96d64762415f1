//! Consumed events: the leads service's `lead.created`, `lead.updated`,
//! `lead.lifecycle_changed` and `lead.qualified`, decoded and handed to
//! `usecases::lead_facts`.

use contracts::EventPayload;
use contracts::RawEvent;
use contracts::leads::{LeadCreated, LeadLifecycleChanged, LeadQualified, LeadUpdated};
use diesel::prelude::*;
use platform::bus::consumer::{EventHandler, HandlerError, decode};

use crate::domain::funnel::QUALIFIED;
use crate::usecases::lead_facts;

#[derive(Default)]
pub struct FunnelHandler;

impl EventHandler for FunnelHandler {
    fn bindings(&self) -> Vec<String> {
        platform::bus::topology::bindings_of(contracts::catalog::Service::Funnel)
    }

    #[tracing::instrument(skip_all, fields(event_type = %event.ty, event_id = %event.id))]
    fn handle(&self, conn: &mut PgConnection, event: &RawEvent) -> Result<(), HandlerError> {
        let event_id = event.id.to_string();
        let result = match event.ty.as_str() {
            LeadCreated::TYPE => lead_facts::lead_created(conn, decode(event)?),
            LeadUpdated::TYPE => lead_facts::lead_updated(conn, decode(event)?),
            LeadLifecycleChanged::TYPE => {
                let e: LeadLifecycleChanged = decode(event)?;
                lead_facts::lead_moved(conn, &event_id, e.lead_id, &e.to_stage, e.changed_at)
            }
            LeadQualified::TYPE => {
                let e: LeadQualified = decode(event)?;
                lead_facts::lead_moved(conn, &event_id, e.lead_id, QUALIFIED, e.qualified_at)
            }
            other => return Err(HandlerError::Permanent(format!("unexpected type {other}"))),
        };
        result.map_err(HandlerError::classify)
    }
}
