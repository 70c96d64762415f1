//! Campaigns: create, read, list and replace. Each write checks the product mix against
//! the catalogue and evaluates the campaign's alerts: costs and revenue may have arrived
//! before it was defined.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{alerts, found, get as get_row, read, transaction};
use crate::Tracking;
use crate::domain::records::Campaign;
use crate::error::BreakevenError;
use crate::store::campaigns::{self as store, CampaignRow};
use crate::store::products;

pub async fn create(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    campaign: Campaign,
) -> Result<CampaignRow, BreakevenError> {
    save(db, tracking, trace, campaign, |conn, c| {
        store::insert(conn, c)?.ok_or_else(|| {
            BreakevenError::Conflict(format!("a campaign with id {:?} exists", c.id))
        })
    })
    .await
}

pub async fn get(db: &Db, id: String) -> Result<CampaignRow, BreakevenError> {
    get_row(db, format!("campaign {id}"), move |conn| {
        store::find(conn, &id)
    })
    .await
}

pub async fn list(db: &Db) -> Result<Vec<CampaignRow>, BreakevenError> {
    read(db, store::list).await
}

/// Replaces a campaign (its id cannot change).
pub async fn replace(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    campaign: Campaign,
) -> Result<CampaignRow, BreakevenError> {
    save(db, tracking, trace, campaign, |conn, c| {
        found(store::update(conn, c)?, format!("campaign {}", c.id))
    })
    .await
}

/// Checks the mix, writes the campaign with `write`, then evaluates its alerts.
async fn save(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    campaign: Campaign,
    write: fn(&mut PgConnection, &Campaign) -> Result<CampaignRow, BreakevenError>,
) -> Result<CampaignRow, BreakevenError> {
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        let ids: Vec<Uuid> = campaign.product_mix.iter().map(|m| m.0).collect();
        campaign.check_products(&products::priced(conn, &ids)?)?;
        let row = write(conn, &campaign)?;
        alerts::evaluate_campaign(conn, &row.id, &tracking, Some(&trace))?;
        Ok(row)
    })
    .await
}
