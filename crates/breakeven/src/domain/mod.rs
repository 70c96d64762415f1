//! The break-even domain: pure cost-volume-profit arithmetic, marketing unit economics,
//! the chart, and the rules of stored products, fixed costs, campaigns, live progress and
//! the company month. No actix, diesel, lapin, utoipa or HTTP problems: rules return
//! domain errors (`CalcError`, `Rejection`) or `platform::validation::Invalid`, and
//! `error.rs` maps them to problems.

pub mod calculator;
pub mod campaign;
pub mod chart;
pub mod company;
pub mod cvp;
pub mod input;
pub mod marketing;
pub mod mix;
pub mod projection;
pub mod records;
pub mod scenario;
pub mod sensitivity;
pub mod spend;
