//! Use cases: between `api/` (or `events.rs`) and `store/`. Each opens the transaction (or
//! runs in the consumer's), calls the domain, writes through `store/` and queues the outbox
//! events.

pub mod affiliates;
pub mod attribution;
pub mod deal_model;
pub mod deals;
pub mod identity;
pub mod journeys;
pub mod reports;
pub mod touchpoints;
