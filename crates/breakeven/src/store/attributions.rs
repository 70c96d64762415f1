//! Attribution rows: the latest conversion of a deal under each model, its credits per
//! campaign, and a campaign's attributed revenue from them.

use chrono::{DateTime, Utc};
use contracts::touchpoints::ConversionAttributed;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::attributions;

/// Keeps `c` as its deal's conversion under its model when it is later than the one kept
/// (by conversion time, then id, so arrival order does not matter): `false` when not.
pub fn keep_latest(conn: &mut PgConnection, c: &ConversionAttributed) -> QueryResult<bool> {
    let applied = diesel::sql_query(
        "INSERT INTO conversions (deal_id, model, conversion_id, value, currency, converted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (deal_id, model) DO UPDATE SET
             conversion_id = excluded.conversion_id, value = excluded.value,
             currency = excluded.currency, converted_at = excluded.converted_at
         WHERE (conversions.converted_at, conversions.conversion_id)
             < (excluded.converted_at, excluded.conversion_id)",
    )
    .bind::<diesel::sql_types::Uuid, _>(c.deal_id)
    .bind::<Text, _>(&c.model)
    .bind::<diesel::sql_types::Uuid, _>(c.conversion_id)
    .bind::<Numeric, _>(c.value)
    .bind::<Text, _>(c.currency.as_str())
    .bind::<Timestamptz, _>(c.converted_at)
    .execute(conn)?;
    Ok(applied > 0)
}

/// Deletes a deal's credits under `model`; returns the campaigns they credited.
pub fn clear_credits(
    conn: &mut PgConnection,
    deal_id: Uuid,
    model: &str,
) -> QueryResult<Vec<String>> {
    diesel::delete(
        attributions::table
            .filter(attributions::deal_id.eq(deal_id))
            .filter(attributions::model.eq(model)),
    )
    .returning(attributions::campaign_id)
    .get_results(conn)
}

/// Credits `value` of a deal to a campaign under `model`.
pub fn insert_credit(
    conn: &mut PgConnection,
    deal_id: Uuid,
    model: &str,
    campaign: &str,
    value: Decimal,
    currency: &str,
) -> QueryResult<()> {
    diesel::insert_into(attributions::table)
        .values((
            attributions::deal_id.eq(deal_id),
            attributions::model.eq(model),
            attributions::campaign_id.eq(campaign),
            attributions::value.eq(value),
            attributions::currency.eq(currency),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct RevenueRow {
    #[diesel(sql_type = Numeric)]
    revenue: Decimal,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    first_activity: Option<DateTime<Utc>>,
}

/// A campaign's attributed revenue in `currency`: per deal, the credits of its chosen
/// attribution (`model` if the deal has it, else the first model by name); a won deal
/// that no attribution covers counts in full for its own `campaign_id`. Also the
/// campaign's first activity: its first cost or won deal.
pub fn attributed_revenue(
    conn: &mut PgConnection,
    campaign: &str,
    currency: &str,
    model: &str,
) -> QueryResult<(Decimal, Option<DateTime<Utc>>)> {
    let row: RevenueRow = diesel::sql_query(
        "WITH deals AS (
             SELECT deal_id FROM attributions WHERE campaign_id = $1
             UNION SELECT deal_id FROM won_deals WHERE campaign_id = $1
         ), chosen AS (
             SELECT DISTINCT ON (c.deal_id) c.deal_id, c.model
             FROM conversions c JOIN deals USING (deal_id)
             ORDER BY c.deal_id, (c.model = $2) DESC, c.model
         )
         SELECT
           (SELECT coalesce(sum(a.value), 0) FROM attributions a
              JOIN chosen ch ON a.deal_id = ch.deal_id AND a.model = ch.model
              WHERE a.campaign_id = $1 AND a.currency = $3)
           + (SELECT coalesce(sum(w.amount), 0) FROM won_deals w
              WHERE w.campaign_id = $1 AND w.currency = $3
                AND NOT EXISTS (SELECT 1 FROM conversions c WHERE c.deal_id = w.deal_id))
             AS revenue,
           (SELECT min(t) FROM (
              SELECT min(won_at) AS t FROM won_deals WHERE campaign_id = $1
              UNION ALL SELECT min(first_at) FROM campaign_spend WHERE campaign_id = $1
           ) x) AS first_activity",
    )
    .bind::<Text, _>(campaign)
    .bind::<Text, _>(model)
    .bind::<Text, _>(currency)
    .get_result(conn)?;
    Ok((row.revenue, row.first_activity))
}
