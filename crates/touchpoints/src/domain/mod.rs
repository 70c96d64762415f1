//! Types and rules of the touchpoints service: no actix, no diesel, no wire schemas.

pub mod affiliate;
pub mod attribution;
pub mod deal_credit;
pub mod journey;
pub mod precondition;
pub mod touchpoint;
pub mod valuation;

pub use affiliate::{AffiliateDraft, AffiliateTerms, CommissionModel};
pub use touchpoint::{Touchpoint, TouchpointDraft};
