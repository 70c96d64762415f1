//! Products: create, read, page, and replace, which re-evaluates the campaigns selling
//! the product.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{alerts, current, found, get as get_row, read, transaction};
use crate::Tracking;
use crate::domain::records::Product;
use crate::error::BreakevenError;
use crate::store::campaigns;
use crate::store::products::{self as store, ProductRow};

/// Creates a product in the caller's transaction (the API's, which records its
/// `Idempotency-Key` with it).
pub fn create(conn: &mut PgConnection, product: &Product) -> Result<ProductRow, BreakevenError> {
    Ok(store::insert(conn, product)?)
}

pub async fn get(db: &Db, id: Uuid) -> Result<ProductRow, BreakevenError> {
    get_row(db, format!("product {id}"), move |conn| {
        store::find(conn, id)
    })
    .await
}

/// At most `limit` products in id order, after the id `after`.
pub async fn page(
    db: &Db,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ProductRow>, BreakevenError> {
    read(db, move |conn| store::page(conn, after, limit)).await
}

/// Replaces version `expected` of a product; a new price or variable cost moves the
/// break-even of every campaign selling it.
pub async fn replace(
    db: &Db,
    tracking: &Tracking,
    trace: TraceContext,
    id: Uuid,
    expected: i32,
    product: Product,
) -> Result<ProductRow, BreakevenError> {
    let tracking = tracking.clone();
    transaction(db, move |conn| {
        let what = format!("product {id}");
        current(store::lock(conn, id)?, what.clone(), expected, |r| {
            r.version
        })?;
        let row = found(store::update(conn, id, &product)?, what)?;
        for campaign in campaigns::selling(conn, id)? {
            alerts::evaluate_campaign(conn, &campaign, &tracking, Some(&trace))?;
        }
        Ok(row)
    })
    .await
}
