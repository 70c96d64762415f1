//! Fixed-cost items: create, read, list and replace. Each write re-evaluates the company
//! months of its currency: lower fixed costs may complete a month's break-even.

use diesel::PgConnection;
use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{found, get as get_row, months, read, transaction};
use crate::domain::records::FixedCost;
use crate::error::BreakevenError;
use crate::store::fixed_costs::{self as store, FixedCostRow};

pub async fn create(
    db: &Db,
    trace: TraceContext,
    cost: FixedCost,
) -> Result<FixedCostRow, BreakevenError> {
    save(db, trace, move |conn| Ok(store::insert(conn, &cost)?)).await
}

pub async fn get(db: &Db, id: Uuid) -> Result<FixedCostRow, BreakevenError> {
    get_row(db, format!("fixed cost {id}"), move |conn| {
        store::find(conn, id)
    })
    .await
}

pub async fn list(db: &Db) -> Result<Vec<FixedCostRow>, BreakevenError> {
    read(db, store::list).await
}

pub async fn replace(
    db: &Db,
    trace: TraceContext,
    id: Uuid,
    cost: FixedCost,
) -> Result<FixedCostRow, BreakevenError> {
    save(db, trace, move |conn| {
        found(store::update(conn, id, &cost)?, format!("fixed cost {id}"))
    })
    .await
}

/// Writes an item with `write`, then re-evaluates the months of its currency.
async fn save<F>(db: &Db, trace: TraceContext, write: F) -> Result<FixedCostRow, BreakevenError>
where
    F: FnOnce(&mut PgConnection) -> Result<FixedCostRow, BreakevenError> + Send + 'static,
{
    transaction(db, move |conn| {
        let row = write(conn)?;
        months::evaluate_months(conn, &row.currency, Some(&trace))?;
        Ok(row)
    })
    .await
}
