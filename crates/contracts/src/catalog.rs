//! The event catalog: which event types exist, who produces and consumes each, and their schemas.

use std::fmt;

use crate::payload::{EventPayload, payload_schema};
pub use crate::service::Service;
use crate::{breakeven, funnel, leads, touchpoints};

/// The one topic exchange every event is published to; the routing key is the event type.
pub const EXCHANGE: &str = "touchstone.events";

pub struct EventInfo {
    pub ty: &'static str,
    /// The producer: the only service that may publish this type.
    pub service: Service,
    pub consumers: &'static [Service],
    /// Published many events per AMQP message in CloudEvents batch mode.
    pub batched: bool,
    pub summary: &'static str,
    /// JSON Schema of the `data` member.
    pub schema: fn() -> schemars::Schema,
    /// Checks that a `data` member decodes into the payload type.
    pub validate: fn(&serde_json::Value) -> Result<(), String>,
}

impl fmt::Debug for EventInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventInfo")
            .field("ty", &self.ty)
            .field("service", &self.service)
            .field("consumers", &self.consumers)
            .field("batched", &self.batched)
            .finish_non_exhaustive()
    }
}

const fn entry<T: EventPayload>(consumers: &'static [Service], summary: &'static str) -> EventInfo {
    EventInfo {
        ty: T::TYPE,
        service: T::SERVICE,
        consumers,
        batched: false,
        summary,
        schema: payload_schema::<T>,
        validate: validate_as::<T>,
    }
}

const fn batched(info: EventInfo) -> EventInfo {
    EventInfo {
        batched: true,
        ..info
    }
}

fn validate_as<T: EventPayload>(data: &serde_json::Value) -> Result<(), String> {
    T::deserialize(data).map(drop).map_err(|e| e.to_string())
}

use Service::{Breakeven, Funnel, Leads, Touchpoints};

static CATALOG: [EventInfo; 18] = [
    entry::<leads::LeadCreated>(
        &[Funnel, Touchpoints],
        "A lead was created. Funnel may open a deal for it; touchpoints stitches anonymous touches to it.",
    ),
    entry::<leads::LeadUpdated>(
        &[Funnel],
        "A lead's profile changed; carries the full profile after the change.",
    ),
    entry::<leads::LeadScored>(
        &[],
        "A lead's grade changed or its score crossed a threshold.",
    ),
    entry::<leads::LeadLifecycleChanged>(
        &[Funnel],
        "A lead moved between lifecycle stages, with the cause.",
    ),
    entry::<leads::LeadQualified>(&[Funnel], "A lead passed the MEDDICC qualification rule."),
    entry::<leads::LeadMerged>(
        &[Touchpoints],
        "A duplicate lead was merged into a surviving lead.",
    ),
    entry::<leads::AccountCreated>(&[], "An account was created."),
    entry::<leads::AccountUpdated>(
        &[],
        "An account changed; carries the full account after the change.",
    ),
    entry::<funnel::DealCreated>(&[Leads], "A deal was opened in a funnel."),
    entry::<funnel::DealUpdated>(
        &[],
        "A deal's terms (value, owner, expected close, methodology, stakeholders) changed; carries the whole deal after the change.",
    ),
    entry::<funnel::DealStageChanged>(
        &[Leads],
        "A deal moved between stages of its funnel (possibly backdated).",
    ),
    entry::<funnel::DealWon>(
        &[Leads, Touchpoints, Breakeven],
        "A deal was won: the conversion that closes a journey and the revenue behind break-even.",
    ),
    entry::<funnel::DealLost>(
        &[Leads, Touchpoints],
        "A deal was lost: its journey is a non-converting path.",
    ),
    batched(entry::<touchpoints::TouchpointRecorded>(
        &[Leads, Breakeven],
        "One touchpoint was recorded. Published many per AMQP message in CloudEvents batch mode.",
    )),
    entry::<touchpoints::ConversionAttributed>(
        &[Breakeven],
        "A won deal's value was attributed to the channels and campaigns of its journey.",
    ),
    entry::<breakeven::BreakevenReached>(
        &[],
        "Contribution covered a company period's fixed costs.",
    ),
    entry::<breakeven::CampaignBreakevenReached>(
        &[],
        "A campaign paid for itself: attributed contribution reached its spend. Sent once per campaign.",
    ),
    entry::<breakeven::CampaignAtRisk>(
        &[],
        "A campaign has spent a configured share of its budget while its ROAS is below break-even ROAS.",
    ),
];

pub fn catalog() -> &'static [EventInfo] {
    &CATALOG
}

pub fn lookup(ty: &str) -> Option<&'static EventInfo> {
    CATALOG.iter().find(|info| info.ty == ty)
}

/// The event types `service` consumes: the routing keys its queue is bound with.
pub fn consumed_by(service: Service) -> Vec<&'static str> {
    CATALOG
        .iter()
        .filter(|info| info.consumers.contains(&service))
        .map(|info| info.ty)
        .collect()
}
