//! Campaign spend from consumed touchpoints.

use diesel::PgConnection;

use super::alerts;
use crate::Tracking;
use crate::domain::spend::sum_costs;
use crate::error::BreakevenError;
use crate::store::spend as store;
use contracts::touchpoints::TouchpointRecorded;

/// Adds the costs of a batch of touchpoints to their campaigns' spend (one upsert per
/// campaign and currency) and re-evaluates those campaigns. Touches without a campaign or
/// a cost change nothing. Returns the campaign ids touched.
pub fn record_costs(
    conn: &mut PgConnection,
    touches: &[TouchpointRecorded],
    tracking: &Tracking,
) -> Result<Vec<String>, BreakevenError> {
    let sums = sum_costs(touches)?;
    // Key order: concurrent batches lock rows in the same order and cannot deadlock.
    for ((campaign, currency), s) in &sums {
        store::add(conn, campaign, currency, s)?;
    }
    let mut campaigns: Vec<String> = sums.keys().map(|(c, _)| c.clone()).collect();
    campaigns.dedup();
    for c in &campaigns {
        alerts::evaluate_campaign(conn, c, tracking, None)?;
    }
    Ok(campaigns)
}
