//! Campaigns: create, read, page and replace. Each write checks the product mix against
//! the catalogue and evaluates the campaign's alerts: costs and revenue may have arrived
//! before it was defined.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{alerts, current, found, get as get_row, read, transaction};
use crate::Tracking;
use crate::domain::records::Campaign;
use crate::error::BreakevenError;
pub use crate::store::campaigns::CampaignFilter;
use crate::store::campaigns::{self as store, CampaignRow};
use crate::store::products;

/// Creates a campaign in the caller's transaction (the API's, which records its
/// `Idempotency-Key` with it); a taken id is `Exists`, naming it.
pub fn create(
    conn: &mut PgConnection,
    tracking: &Tracking,
    trace: &TraceContext,
    campaign: &Campaign,
) -> Result<CampaignRow, BreakevenError> {
    check_mix(conn, campaign)?;
    let row = store::insert(conn, campaign)?.ok_or_else(|| BreakevenError::Exists {
        what: "campaign",
        id: campaign.id.clone(),
    })?;
    alerts::evaluate_campaign(conn, &row.id, tracking, Some(trace))?;
    Ok(row)
}

pub async fn get(db: &Db, id: String) -> Result<CampaignRow, BreakevenError> {
    get_row(db, format!("campaign {id}"), move |conn| {
        store::find(conn, &id)
    })
    .await
}

/// One page of campaigns (`filter.limit` of them), in `filter.sort` order.
pub async fn list(db: &Db, filter: CampaignFilter) -> Result<Vec<CampaignRow>, BreakevenError> {
    read(db, move |conn| store::list(conn, &filter)).await
}

/// Replaces version `expected` of a campaign (its id cannot change) and evaluates its
/// alerts.
pub async fn replace(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    expected: i32,
    campaign: Campaign,
) -> Result<CampaignRow, BreakevenError> {
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        let what = format!("campaign {}", campaign.id);
        current(
            store::lock(conn, &campaign.id)?,
            what.clone(),
            expected,
            |r| r.version,
        )?;
        check_mix(conn, &campaign)?;
        let row = found(store::update(conn, &campaign)?, what)?;
        alerts::evaluate_campaign(conn, &row.id, &tracking, Some(&trace))?;
        Ok(row)
    })
    .await
}

/// The products of the mix exist, in the campaign's currency.
fn check_mix(conn: &mut PgConnection, campaign: &Campaign) -> Result<(), BreakevenError> {
    let ids: Vec<Uuid> = campaign.product_mix.iter().map(|m| m.0).collect();
    campaign.check_products(&products::priced(conn, &ids)?)?;
    Ok(())
}
