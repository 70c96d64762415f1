//! Product rows: price and variable cost per unit, in one currency.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::products;
use super::{find_lock_and_page, now};
use crate::domain::records::PricedProduct;
use crate::domain::records::Product;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    pub currency: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, p: &Product) -> QueryResult<ProductRow> {
    let t = now();
    diesel::insert_into(products::table)
        .values(ProductRow {
            id: Uuid::now_v7(),
            name: p.name.clone(),
            price: p.price,
            variable_cost: p.variable_cost,
            currency: p.currency.to_string(),
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .returning(ProductRow::as_returning())
        .get_result(conn)
}

find_lock_and_page!(products, ProductRow, Uuid);

/// Replaces a product as its next version; `None` when it does not exist.
pub fn update(conn: &mut PgConnection, id: Uuid, p: &Product) -> QueryResult<Option<ProductRow>> {
    diesel::update(products::table.find(id))
        .set((
            products::name.eq(&p.name),
            products::price.eq(p.price),
            products::variable_cost.eq(p.variable_cost),
            products::currency.eq(p.currency.as_str()),
            products::version.eq(products::version + 1),
            products::updated_at.eq(now()),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .optional()
}

/// The products among `ids` that exist, as priced.
pub fn priced(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<PricedProduct>> {
    let rows: Vec<(Uuid, Decimal, Decimal, String)> = products::table
        .filter(products::id.eq_any(ids))
        .select((
            products::id,
            products::price,
            products::variable_cost,
            products::currency,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, price, variable_cost, currency)| PricedProduct {
            id,
            price,
            variable_cost,
            currency,
        })
        .collect())
}

/// Price and variable cost of every product priced (above zero) in `currency`.
pub fn prices_in(conn: &mut PgConnection, currency: &str) -> QueryResult<Vec<(Decimal, Decimal)>> {
    products::table
        .filter(products::currency.eq(currency))
        .filter(products::price.gt(Decimal::ZERO))
        .select((products::price, products::variable_cost))
        .load(conn)
}
