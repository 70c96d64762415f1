//! Products, fixed costs and campaigns: create, read, list, replace; and a campaign's live
//! break-even.

mod campaigns;
mod fixed_costs;
mod products;
mod progress;

use platform::validation::Invalid;
use utoipa::IntoParams;

pub use campaigns::*;
pub use fixed_costs::*;
pub use products::*;
pub use progress::*;

use crate::domain::records::campaign_id;
use crate::error::BreakevenError;

/// The path of one campaign.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CampaignPath {
    /// The campaign id: 1 to 100 letters, digits, `-`, `_` or `.`
    #[param(pattern = r"^[A-Za-z0-9._-]{1,100}$")]
    pub id: String,
}

/// A campaign id path segment, or a 422 naming `id`.
fn path_campaign(raw: &str) -> Result<String, BreakevenError> {
    campaign_id(raw).map_err(|m| Invalid::field("id", m).into())
}
