//! Touchstone's event catalog: the CloudEvents envelope, every event payload, and their schemas.

pub mod asyncapi;
pub mod breakeven;
pub mod catalog;
pub mod envelope;
pub mod funnel;
pub mod leads;
pub mod money;
pub mod schema;
pub mod touchpoints;

pub use catalog::{EXCHANGE, EventInfo, Service, catalog, lookup};
pub use envelope::{
    CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, CloudEvent, DATA_CONTENT_TYPE, DecodeError,
    EventPayload, RawEvent, SPEC_VERSION, parse_batch, parse_message, parse_structured,
};
pub use money::{Currency, Money};
