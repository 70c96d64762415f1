//! Touchstone's event catalog: the CloudEvents envelope, every event payload, and their schemas.

pub mod asyncapi;
pub mod breakeven;
pub mod catalog;
pub mod docs;
pub mod envelope;
pub mod funnel;
pub mod leads;
pub mod money;
pub mod payload;
pub mod schema;
pub mod service;
pub mod touchpoints;

pub use catalog::{EXCHANGE, EventInfo, catalog, lookup};
pub use envelope::{
    CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, CloudEvent, DATA_CONTENT_TYPE, DecodeError, RawEvent,
    SPEC_VERSION, parse_batch, parse_message, parse_structured,
};
pub use money::{Currency, Money};
pub use payload::EventPayload;
pub use service::Service;
