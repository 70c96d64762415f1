//! Diesel reads and writes of the funnel service's rows, in the caller's transaction. No
//! rules and no events here: those are `usecases/`.

pub mod deals;
pub mod funnels;
pub mod leads;
pub mod reports;
pub mod schema;
