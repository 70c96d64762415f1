//! Persistence: products, fixed costs, campaigns and scenarios, and the live-tracking
//! totals fed by events. Alerts are written to the outbox here, in the same transaction
//! as the change that causes them.

pub mod records;
pub mod scenarios;
pub mod schema;
pub mod tracking;
