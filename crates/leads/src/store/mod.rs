//! Persistence of the leads service: rows in, rows out. No rules, no events and no HTTP
//! here: the use cases decide, and write through these functions in their transaction.

pub mod accounts;
pub mod deals;
pub mod engagement;
pub mod leads;
pub mod lifecycle;
pub mod meddicc;
pub mod merge;
pub mod reports;
pub mod schema;
pub mod scoring;

pub use leads::{LeadFilter, LeadRow};
