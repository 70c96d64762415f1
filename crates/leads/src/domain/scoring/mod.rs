//! Lead scoring: a data-driven model of fit rules and engagement points, half-life decay, and grades.
//!
//! The model is stored as JSON and versioned by the caller, so marketing can change the rules
//! without a release. Nothing here knows about versions, storage or events.

mod defaults;
mod engagement;
mod fit;
mod grade;
mod model;
mod validate;

pub use engagement::{Engagement, decay};
pub use fit::{Condition, FiredRule, FitFacts};
pub use grade::Grade;
pub use model::{
    Bands, EngagementPoints, FitRule, MqlThreshold, ScoringModel, default_half_life_days,
};
pub use validate::{MAX_HALF_LIFE_DAYS, MAX_POINTS, MIN_HALF_LIFE_DAYS};
