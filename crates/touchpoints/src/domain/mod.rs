//! Types and rules of the touchpoints service: no actix, no diesel.

pub mod affiliate;
pub mod attribution;
pub mod touchpoint;

pub use affiliate::{AffiliateInput, AffiliateTerms, CommissionModel};
pub use touchpoint::{Touchpoint, TouchpointInput};
