//! The funnel service's types and rules: no actix, no diesel, no lapin.

pub mod deal;
pub mod funnel;
pub mod log;
pub mod matching;
