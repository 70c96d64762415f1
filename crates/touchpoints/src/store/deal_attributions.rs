//! The attribution of each won deal, as published in `conversion.attributed`.

use chrono::{DateTime, Utc};
use contracts::touchpoints::{AttributionCredit, ConversionAttributed};
use diesel::prelude::*;
use uuid::Uuid;

use super::ATTRIBUTE_LOCK;
use super::conversions::ConversionRow;
use super::schema::{conversions, deal_attributions};

/// Takes the attribution lock shared until the transaction ends: this transaction
/// attributes won deals.
pub fn lock_attributing(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock_shared({ATTRIBUTE_LOCK})"
    ))
    .execute(conn)?;
    Ok(())
}

/// Waits until every transaction attributing won deals when called has ended (the lock is
/// taken exclusively and let go at once), so that a read after it sees their deals.
pub fn wait_for_attributing(conn: &mut PgConnection) -> QueryResult<()> {
    conn.transaction(|tx| {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({ATTRIBUTE_LOCK})")).execute(tx)
    })?;
    Ok(())
}

/// One model's credits of a won deal.
#[derive(Debug, Clone)]
pub struct DealAttributionRow {
    pub model: String,
    pub order: Option<u8>,
    pub touch_count: u32,
    pub credits: Vec<AttributionCredit>,
    pub attributed_at: DateTime<Utc>,
}

/// Stores a published attribution (once per conversion and model). Run it in the
/// transaction that queues the event.
pub fn insert(conn: &mut PgConnection, a: &ConversionAttributed) -> QueryResult<()> {
    let credits = serde_json::to_value(&a.credits).expect("credits serialize");
    diesel::insert_into(deal_attributions::table)
        .values((
            deal_attributions::conversion_id.eq(a.conversion_id),
            deal_attributions::model.eq(&a.model),
            deal_attributions::deal_id.eq(a.deal_id),
            deal_attributions::markov_order.eq(a.order.map(i16::from)),
            deal_attributions::touch_count.eq(i32::try_from(a.touch_count).unwrap_or(i32::MAX)),
            deal_attributions::credits.eq(credits),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// The won conversion of deal `deal`, if it was won.
pub fn won_conversion(conn: &mut PgConnection, deal: Uuid) -> QueryResult<Option<ConversionRow>> {
    conversions::table
        .filter(conversions::deal_id.eq(deal))
        .filter(conversions::kind.eq("won"))
        .select(ConversionRow::as_select())
        .first(conn)
        .optional()
}

/// A stored attribution as read: model, Markov order, touch count, credits (JSON) and when.
type StoredAttribution = (String, Option<i16>, i32, serde_json::Value, DateTime<Utc>);

/// The attributions stored for conversion `conversion`, by model.
pub fn of_conversion(
    conn: &mut PgConnection,
    conversion: Uuid,
) -> QueryResult<Vec<DealAttributionRow>> {
    let rows: Vec<StoredAttribution> = deal_attributions::table
        .filter(deal_attributions::conversion_id.eq(conversion))
        .order(deal_attributions::model)
        .select((
            deal_attributions::model,
            deal_attributions::markov_order,
            deal_attributions::touch_count,
            deal_attributions::credits,
            deal_attributions::attributed_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(model, order, touch_count, credits, attributed_at)| {
            // Written from the event's credits, so they read back.
            let credits = serde_json::from_value(credits)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Ok(DealAttributionRow {
                model,
                order: order.and_then(|o| u8::try_from(o).ok()),
                touch_count: u32::try_from(touch_count).unwrap_or(0),
                credits,
                attributed_at,
            })
        })
        .collect()
}
