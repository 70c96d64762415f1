//! Diesel queries of the funnel service; outbox rows are written here, in the caller's
//! transaction.

pub mod deals;
pub mod funnels;
pub mod leads;
pub mod reports;
pub mod schema;
