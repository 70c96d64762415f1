//! Conversions: won deals, lost deals (the null paths the Markov model needs) and
//! micro-conversions, each the end of a journey.

use chrono::{DateTime, Utc};
use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::identity;
use super::schema::conversions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversions)]
pub struct ConversionRow {
    pub id: Uuid,
    pub kind: String,
    pub deal_id: Option<Uuid>,
    pub touchpoint_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    pub campaign_id: Option<String>,
    pub converted_at: DateTime<Utc>,
}

/// What a deal event says.
pub struct DealOutcome<'a> {
    /// `won` or `lost`.
    pub kind: &'static str,
    pub deal_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub value: Option<Decimal>,
    pub currency: Option<&'a str>,
    pub campaign_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Records a won or lost deal once (a deal has at most one of each); the lead is followed
/// through merges. Returns the new conversion's id and live lead, or `None` when the deal
/// was already recorded.
pub fn record_deal(
    conn: &mut PgConnection,
    d: &DealOutcome<'_>,
) -> QueryResult<Option<(Uuid, Option<Uuid>)>> {
    let lead = match d.lead_id {
        Some(l) => Some(identity::resolve(conn, l)?),
        None => None,
    };
    let id = Uuid::now_v7();
    let n = diesel::insert_into(conversions::table)
        .values((
            conversions::id.eq(id),
            conversions::kind.eq(d.kind),
            conversions::deal_id.eq(d.deal_id),
            conversions::lead_id.eq(lead),
            conversions::value.eq(d.value),
            conversions::currency.eq(d.currency),
            conversions::campaign_id.eq(d.campaign_id),
            conversions::converted_at.eq(d.at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok((n == 1).then_some((id, lead)))
}

/// Records each of `touches` as a micro-conversion (once: a touch has at most one).
pub fn record_micro(conn: &mut PgConnection, touches: &[&TouchpointRecorded]) -> QueryResult<()> {
    let rows: Vec<_> = touches
        .iter()
        .map(|t| {
            (
                conversions::id.eq(Uuid::now_v7()),
                conversions::kind.eq("micro"),
                conversions::touchpoint_id.eq(t.touchpoint_id),
                conversions::lead_id.eq(t.lead_id),
                conversions::campaign_id.eq(t.campaign_id.clone()),
                conversions::converted_at.eq(t.occurred_at),
            )
        })
        .collect();
    for part in rows.chunks(5_000) {
        diesel::insert_into(conversions::table)
            .values(part)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

pub fn of_lead(conn: &mut PgConnection, lead: Uuid) -> QueryResult<Vec<ConversionRow>> {
    conversions::table
        .filter(conversions::lead_id.eq(lead))
        .order((conversions::converted_at, conversions::id))
        .select(ConversionRow::as_select())
        .load(conn)
}
