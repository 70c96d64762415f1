//! Fixed-cost rows: an amount per month, quarter or year, in one currency.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::fixed_costs;
use super::{find_lock_and_page, now};
use crate::domain::records::FixedCost;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fixed_costs)]
pub struct FixedCostRow {
    pub id: Uuid,
    pub name: String,
    pub amount: Decimal,
    pub period: String,
    pub currency: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, f: &FixedCost) -> QueryResult<FixedCostRow> {
    let t = now();
    diesel::insert_into(fixed_costs::table)
        .values(FixedCostRow {
            id: Uuid::now_v7(),
            name: f.name.clone(),
            amount: f.amount,
            period: f.period.as_str().to_string(),
            currency: f.currency.to_string(),
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .returning(FixedCostRow::as_returning())
        .get_result(conn)
}

find_lock_and_page!(fixed_costs, FixedCostRow, Uuid);

/// Replaces a fixed-cost item as its next version; `None` when it does not exist.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &FixedCost,
) -> QueryResult<Option<FixedCostRow>> {
    diesel::update(fixed_costs::table.find(id))
        .set((
            fixed_costs::name.eq(&f.name),
            fixed_costs::amount.eq(f.amount),
            fixed_costs::period.eq(f.period.as_str()),
            fixed_costs::currency.eq(f.currency.as_str()),
            fixed_costs::version.eq(fixed_costs::version + 1),
            fixed_costs::updated_at.eq(now()),
        ))
        .returning(FixedCostRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Amount and period of every fixed cost in `currency`.
pub fn in_currency(conn: &mut PgConnection, currency: &str) -> QueryResult<Vec<(Decimal, String)>> {
    fixed_costs::table
        .filter(fixed_costs::currency.eq(currency))
        .select((fixed_costs::amount, fixed_costs::period))
        .load(conn)
}
