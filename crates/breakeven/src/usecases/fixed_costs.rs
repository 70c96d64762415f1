//! Fixed-cost items: create, read, page and replace. Each write re-evaluates the company
//! months of its currency: lower fixed costs may complete a month's break-even.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{current, found, get as get_row, months, read, transaction};
use crate::domain::records::FixedCost;
use crate::error::BreakevenError;
use crate::store::fixed_costs::{self as store, FixedCostRow};

/// Creates an item in the caller's transaction (the API's, which records its
/// `Idempotency-Key` with it), then re-evaluates the months of its currency.
pub fn create(
    conn: &mut PgConnection,
    trace: &TraceContext,
    cost: &FixedCost,
) -> Result<FixedCostRow, BreakevenError> {
    let row = store::insert(conn, cost)?;
    months::evaluate_months(conn, &row.currency, Some(trace))?;
    Ok(row)
}

pub async fn get(db: &Db, id: Uuid) -> Result<FixedCostRow, BreakevenError> {
    get_row(db, format!("fixed cost {id}"), move |conn| {
        store::find(conn, id)
    })
    .await
}

/// At most `limit` items in id order, after the id `after`.
pub async fn page(
    db: &Db,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<FixedCostRow>, BreakevenError> {
    read(db, move |conn| store::page(conn, after, limit)).await
}

/// Replaces version `expected` of an item, then re-evaluates the months of its currency
/// (and of its former one, whose fixed costs fell).
pub async fn replace(
    db: &Db,
    trace: TraceContext,
    id: Uuid,
    expected: i32,
    cost: FixedCost,
) -> Result<FixedCostRow, BreakevenError> {
    transaction(db, move |conn| {
        let what = format!("fixed cost {id}");
        let before = current(store::lock(conn, id)?, what.clone(), expected, |r| {
            r.version
        })?;
        let row = found(store::update(conn, id, &cost)?, what)?;
        months::evaluate_months(conn, &row.currency, Some(&trace))?;
        if before.currency != row.currency {
            months::evaluate_months(conn, &before.currency, Some(&trace))?;
        }
        Ok(row)
    })
    .await
}
