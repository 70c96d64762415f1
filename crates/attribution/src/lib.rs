//! Touchstone's attribution engine: heuristic, Markov and Shapley models over journeys and
//! aggregated paths. Pure computation: no HTTP, no database, no async.
//!
//! ```
//! use attribution::{Model, PathSet, attribute_paths, formats};
//!
//! let stats = formats::parse_paths_json(
//!     r#"{"paths": [{"path": ["email", "paid_search"], "conversions": 3, "value": "120.50", "nulls": 10},
//!                   {"path": ["paid_search"], "conversions": 1, "value": "40", "nulls": 30}]}"#,
//! )?;
//! let paths = PathSet::new(&stats)?;
//! let models = ["markov", "linear"].map(Model::parse).into_iter().collect::<Result<Vec<_>, _>>()?;
//! let report = attribute_paths(&paths, &models)?;
//! assert_eq!(report.total_conversions, 4.0);
//! let json = serde_json::to_string(&report).unwrap();
//! # assert!(json.contains("\"removal_effects\""));
//! # Ok::<(), attribution::Error>(())
//! ```
//!
//! Credits are `f64`: a share of a conversion or of its value is an estimate, not an amount
//! to book, so the engine does not use `rust_decimal` past the parsers. The same input gives
//! bit-identical output: channels are interned in name order and every sum runs in input
//! order.

mod error;
pub mod formats;
mod heuristic;
mod input;
mod markov;
mod model;
mod report;
mod result;
mod shapley;
pub mod synthetic;
#[cfg(test)]
mod testing;

pub use error::Error;
pub use input::{
    CONVERSION, DIRECT, Journey, JourneySet, NULL, PATH_SEPARATOR, PathSet, PathStat, START, Touch,
};
pub use markov::{DENSE_FALLBACK_STATES, MAX_SWEEPS, TOLERANCE};
pub use model::{
    FullPathWeights, HalfLife, MODEL_NAMES, MarkovOrder, Model, ModelRequest, PositionWeights,
    WShapedWeights,
};
pub use report::{attribute_journeys, attribute_paths};
pub use result::{ChannelCredit, ModelResult, RemovalEffect, Report, Transition};
