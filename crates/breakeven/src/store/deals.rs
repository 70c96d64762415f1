//! Won deal rows: revenue per campaign and per company month, with the contribution of
//! their product lines when known.

use contracts::funnel::DealWon;
use diesel::prelude::*;
use diesel::sql_types::{Numeric, Text};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::won_deals;

/// A product line of a won deal as stored in `won_deals.products`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Line {
    product_id: String,
    units: u64,
    amount: Option<Decimal>,
}

/// Records a won deal in its month, once: `false` when it was recorded before.
pub fn insert(
    conn: &mut PgConnection,
    d: &DealWon,
    month: &str,
    contribution: Option<Decimal>,
) -> QueryResult<bool> {
    let lines: Vec<Line> = d
        .products
        .iter()
        .map(|p| Line {
            product_id: p.product_id.clone(),
            units: p.units,
            amount: p.amount,
        })
        .collect();
    let inserted = diesel::insert_into(won_deals::table)
        .values((
            won_deals::deal_id.eq(d.deal_id),
            won_deals::campaign_id.eq(&d.campaign_id),
            won_deals::amount.eq(d.amount),
            won_deals::currency.eq(d.currency.as_str()),
            won_deals::won_at.eq(d.won_at),
            won_deals::period.eq(month),
            won_deals::contribution.eq(contribution),
            won_deals::products.eq(serde_json::to_value(&lines).unwrap_or_default()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

/// The campaign a recorded deal was won for, if any.
pub fn campaign_of(conn: &mut PgConnection, deal_id: Uuid) -> QueryResult<Option<String>> {
    Ok(won_deals::table
        .find(deal_id)
        .select(won_deals::campaign_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Every month with deals in `currency`, in order.
pub fn months_in(conn: &mut PgConnection, currency: &str) -> QueryResult<Vec<String>> {
    won_deals::table
        .filter(won_deals::currency.eq(currency))
        .select(won_deals::period)
        .distinct()
        .order(won_deals::period)
        .load(conn)
}

/// The deals of a month in one currency, summed.
#[derive(Debug, Clone, QueryableByName)]
pub struct MonthSums {
    #[diesel(sql_type = Numeric)]
    pub revenue: Decimal,
    /// Contribution of the deals whose product lines are known.
    #[diesel(sql_type = Numeric)]
    pub known: Decimal,
    /// Revenue of the other deals.
    #[diesel(sql_type = Numeric)]
    pub unknown_revenue: Decimal,
}

pub fn month_sums(conn: &mut PgConnection, month: &str, currency: &str) -> QueryResult<MonthSums> {
    diesel::sql_query(
        "SELECT coalesce(sum(amount), 0) AS revenue,
                coalesce(sum(contribution), 0) AS known,
                coalesce(sum(amount) FILTER (WHERE contribution IS NULL), 0) AS unknown_revenue
         FROM won_deals WHERE period = $1 AND currency = $2",
    )
    .bind::<Text, _>(month)
    .bind::<Text, _>(currency)
    .get_result(conn)
}
