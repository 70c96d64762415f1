//! Fixed-cost items: create, read, list and replace. Each write re-evaluates the company
//! months of its currency: lower fixed costs may complete a month's break-even.

use platform::{Db, TraceContext};
use uuid::Uuid;

use super::{found, months, read, transaction};
use crate::domain::records::FixedCost;
use crate::error::BreakevenError;
use crate::store::fixed_costs::{self as store, FixedCostRow};

pub async fn create(
    db: &Db,
    trace: TraceContext,
    cost: FixedCost,
) -> Result<FixedCostRow, BreakevenError> {
    transaction(db, move |conn| {
        let row = store::insert(conn, &cost)?;
        months::evaluate_months(conn, &row.currency, Some(&trace))?;
        Ok(row)
    })
    .await
}

pub async fn get(db: &Db, id: Uuid) -> Result<FixedCostRow, BreakevenError> {
    found(read(db, move |conn| store::find(conn, id)).await?, || {
        format!("fixed cost {id}")
    })
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
    transaction(db, move |conn| {
        let row = found(store::update(conn, id, &cost)?, || {
            format!("fixed cost {id}")
        })?;
        months::evaluate_months(conn, &row.currency, Some(&trace))?;
        Ok(row)
    })
    .await
}
