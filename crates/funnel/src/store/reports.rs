//! Loads what the funnel report reads: a funnel's deals opened in a window, with the
//! breakdown value resolved (an attribute: the deal's own first, then the lead's; or the
//! deal's methodology, or its stakeholder coverage), and their moves.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::log::Status;
use crate::reports::DealFacts;

const SCOPE: &str = "d.funnel_id = $1
      AND ($2::timestamptz IS NULL OR d.opened_at >= $2)
      AND ($3::timestamptz IS NULL OR d.opened_at < $3)";

#[derive(QueryableByName)]
struct DealLine {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    opened_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Numeric>)]
    amount: Option<Decimal>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    closed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    close_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
}

#[derive(QueryableByName)]
struct MoveLine {
    #[diesel(sql_type = SqlUuid)]
    deal_id: Uuid,
    #[diesel(sql_type = Text)]
    to_stage: String,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

pub fn load(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    breakdown: Option<&str>,
) -> QueryResult<Vec<DealFacts>> {
    let deals: Vec<DealLine> = diesel::sql_query(format!(
        "SELECT d.id, d.opened_at, d.status, d.amount, d.currency, d.closed_at, d.close_reason,
           CASE $4
             WHEN 'source' THEN COALESCE(d.attributes->>'source', lf.source)
             WHEN 'campaign' THEN COALESCE(d.attributes->>'campaign', d.campaign_id, lf.campaign_id)
             WHEN 'channel' THEN COALESCE(d.attributes->>'channel', lf.channel)
             WHEN 'owner' THEN COALESCE(d.attributes->>'owner', d.owner, lf.owner)
             WHEN 'segment' THEN COALESCE(d.attributes->>'segment', lf.segment)
             WHEN 'methodology' THEN d.methodology
             -- reports::COVERAGE: a champion and an economic buyer, or not.
             WHEN 'stakeholder_coverage' THEN
               CASE WHEN d.stakeholders @> '[{{\"role\": \"champion\"}}]'
                     AND d.stakeholders @> '[{{\"role\": \"economic_buyer\"}}]'
                 THEN 'covered' ELSE 'not_covered' END
           END AS key
         FROM deals d LEFT JOIN lead_facts lf ON lf.lead_id = d.lead_id
         WHERE {SCOPE}
         ORDER BY d.id"
    ))
    .bind::<SqlUuid, _>(funnel_id)
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .bind::<Nullable<Text>, _>(breakdown)
    .load(conn)?;
    let moves: Vec<MoveLine> = diesel::sql_query(format!(
        "SELECT t.deal_id, t.to_stage, t.at
         FROM transitions t JOIN deals d ON d.id = t.deal_id
         WHERE {SCOPE}
         ORDER BY t.deal_id, t.at, t.seq"
    ))
    .bind::<SqlUuid, _>(funnel_id)
    .bind::<Nullable<Timestamptz>, _>(from)
    .bind::<Nullable<Timestamptz>, _>(to)
    .load(conn)?;
    let mut moves = moves.into_iter().peekable();
    Ok(deals
        .into_iter()
        .map(|d| {
            let mut list = Vec::new();
            while let Some(m) = moves.next_if(|m| m.deal_id == d.id) {
                list.push((m.to_stage, m.at));
            }
            DealFacts {
                key: d.key,
                opened_at: d.opened_at,
                status: Status::parse(&d.status),
                amount: d.amount,
                currency: d.currency,
                closed_at: d.closed_at,
                close_reason: d.close_reason,
                moves: list,
            }
        })
        .collect())
}
