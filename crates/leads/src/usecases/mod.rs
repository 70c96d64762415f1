//! The leads service's use cases, between `api/` or `events.rs` and `store/`. A use case
//! opens the transaction (unless it runs inside the consumer's), calls the domain, writes
//! through `store/` and enqueues the outbox events of what changed.

pub mod accounts;
pub mod deals;
pub mod engagement;
pub mod import;
pub mod leads;
pub mod lifecycle;
mod live;
pub mod merge;
pub mod qualification;
pub mod reports;
pub mod scoring;

use platform::time::now;
