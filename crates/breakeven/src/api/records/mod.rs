//! Products, fixed costs and campaigns: create, read, list, replace; and a campaign's live
//! break-even.

mod campaigns;
mod fixed_costs;
mod products;
mod progress;

use platform::validation::Invalid;

pub use campaigns::*;
pub use fixed_costs::*;
pub use products::*;
pub use progress::*;

use crate::domain::records::campaign_id;
use crate::error::BreakevenError;

/// A campaign id path segment, or a 422 naming `id`.
fn path_campaign(raw: &str) -> Result<String, BreakevenError> {
    campaign_id(raw).map_err(|m| Invalid::field("id", m).into())
}
