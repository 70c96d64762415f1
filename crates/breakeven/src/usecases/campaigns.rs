//! Campaigns: create, read, list and replace. Each write checks the product mix against
//! the catalogue and evaluates the campaign's alerts: costs and revenue may have arrived
//! before it was defined.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{alerts, found, read, transaction};
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
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        check_products(conn, &campaign)?;
        let row = store::insert(conn, &campaign)?.ok_or_else(|| {
            BreakevenError::Conflict(format!("a campaign with id {:?} exists", campaign.id))
        })?;
        alerts::evaluate_campaign(conn, &row.id, &tracking, Some(&trace))?;
        Ok(row)
    })
    .await
}

pub async fn get(db: &Db, id: String) -> Result<CampaignRow, BreakevenError> {
    let key = id.clone();
    found(read(db, move |conn| store::find(conn, &key)).await?, || {
        format!("campaign {id}")
    })
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
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        check_products(conn, &campaign)?;
        let row = found(store::update(conn, &campaign)?, || {
            format!("campaign {}", campaign.id)
        })?;
        alerts::evaluate_campaign(conn, &row.id, &tracking, Some(&trace))?;
        Ok(row)
    })
    .await
}

fn check_products(conn: &mut PgConnection, c: &Campaign) -> Result<(), BreakevenError> {
    let ids: Vec<Uuid> = c.product_mix.iter().map(|m| m.0).collect();
    Ok(c.check_products(&products::priced(conn, &ids)?)?)
}
