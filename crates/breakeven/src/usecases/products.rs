//! Products: create, read, list, and replace, which re-evaluates the campaigns selling
//! the product.

use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{alerts, found, get as get_row, read, transaction};
use crate::Tracking;
use crate::domain::records::Product;
use crate::error::BreakevenError;
use crate::store::campaigns;
use crate::store::products::{self as store, ProductRow};

pub async fn create(db: &Db, product: Product) -> Result<ProductRow, BreakevenError> {
    read(db, move |conn| store::insert(conn, &product)).await
}

pub async fn get(db: &Db, id: Uuid) -> Result<ProductRow, BreakevenError> {
    get_row(db, format!("product {id}"), move |conn| {
        store::find(conn, id)
    })
    .await
}

pub async fn list(db: &Db) -> Result<Vec<ProductRow>, BreakevenError> {
    read(db, store::list).await
}

/// Replaces a product; a new price or variable cost moves the break-even of every
/// campaign selling it.
pub async fn replace(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    id: Uuid,
    product: Product,
) -> Result<ProductRow, BreakevenError> {
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        let row = found(store::update(conn, id, &product)?, format!("product {id}"))?;
        let selling: Vec<String> = campaigns::list(conn)?
            .into_iter()
            .filter(|c| c.mix().iter().any(|(pid, _)| *pid == id))
            .map(|c| c.id)
            .collect();
        for campaign in selling {
            alerts::evaluate_campaign(conn, &campaign, &tracking, Some(&trace))?;
        }
        Ok(row)
    })
    .await
}
