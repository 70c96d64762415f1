//! Touchpoint rows: one set-based INSERT per chunk (arrays bound once, unnested by the
//! server) with the identity map applied in the same statement, and reads back.

use chrono::{DateTime, Utc};
use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::touchpoints;
use crate::domain::Touchpoint;

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    lead_id: Option<Uuid>,
}

/// Stores the touches that are new (by id), stitching each through the identity map and
/// merges as it goes in. Returns the ids stored now, each with the lead it was stitched to.
/// Run it inside a transaction, under [`identity::lock_shared`](super::identity::lock_shared).
pub fn insert(
    conn: &mut PgConnection,
    touches: &[Touchpoint],
) -> QueryResult<Vec<(Uuid, Option<Uuid>)>> {
    if touches.is_empty() {
        return Ok(Vec::new());
    }
    let c = Columns::of(touches);
    let rows: Vec<Inserted> = diesel::sql_query(INSERT_SQL)
        .bind::<Array<SqlUuid>, _>(&c.id)
        .bind::<Array<Timestamptz>, _>(&c.occurred_at)
        .bind::<Array<Timestamptz>, _>(&c.received_at)
        .bind::<Array<Text>, _>(&c.channel)
        .bind::<Array<Text>, _>(&c.touch_type)
        .bind::<Array<Nullable<Text>>, _>(&c.campaign_id)
        .bind::<Array<Nullable<Text>>, _>(&c.creative_id)
        .bind::<Array<Nullable<Text>>, _>(&c.content_id)
        .bind::<Array<Nullable<Text>>, _>(&c.utm_source)
        .bind::<Array<Nullable<Text>>, _>(&c.utm_medium)
        .bind::<Array<Nullable<Text>>, _>(&c.utm_campaign)
        .bind::<Array<Nullable<Text>>, _>(&c.utm_term)
        .bind::<Array<Nullable<Text>>, _>(&c.utm_content)
        .bind::<Array<Nullable<Text>>, _>(&c.anonymous_id)
        .bind::<Array<Nullable<SqlUuid>>, _>(&c.lead_id)
        .bind::<Array<Nullable<Text>>, _>(&c.email)
        .bind::<Array<Nullable<SqlUuid>>, _>(&c.account_id)
        .bind::<Array<Nullable<Text>>, _>(&c.affiliate_id)
        .bind::<Array<Nullable<Numeric>>, _>(&c.cost)
        .bind::<Array<Nullable<Text>>, _>(&c.currency)
        .bind::<Array<Nullable<Jsonb>>, _>(&c.properties)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.lead_id)).collect())
}

/// The lead of a touch: its own `lead_id` (followed through merges), else the owner of its
/// anonymous id, else the owner of its email. COALESCE stops at the first hit. Rows go in
/// id order, so chunks written concurrently that share ids wait on each other instead of
/// deadlocking.
const INSERT_SQL: &str = "\
INSERT INTO touchpoints (id, occurred_at, received_at, channel, touch_type, campaign_id, \
  creative_id, content_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content, \
  anonymous_id, lead_id, email, account_id, affiliate_id, cost, currency, properties) \
SELECT v.id, v.occurred_at, v.received_at, v.channel, v.touch_type, v.campaign_id, \
  v.creative_id, v.content_id, v.utm_source, v.utm_medium, v.utm_campaign, v.utm_term, \
  v.utm_content, v.anonymous_id, \
  COALESCE( \
    (SELECT m.survivor_id FROM lead_merges m WHERE m.merged_lead_id = v.lead_id), \
    v.lead_id, \
    (SELECT i.lead_id FROM identities i WHERE i.kind = 'anonymous_id' AND i.value = v.anonymous_id), \
    (SELECT i.lead_id FROM identities i WHERE i.kind = 'email' AND i.value = v.email)), \
  v.email, v.account_id, v.affiliate_id, v.cost, v.currency, v.properties \
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[], \
  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
  $13::text[], $14::text[], $15::uuid[], $16::text[], $17::uuid[], $18::text[], \
  $19::numeric[], $20::text[], $21::jsonb[]) \
  AS v(id, occurred_at, received_at, channel, touch_type, campaign_id, creative_id, \
  content_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content, anonymous_id, \
  lead_id, email, account_id, affiliate_id, cost, currency, properties) \
ORDER BY v.id \
ON CONFLICT (id) DO NOTHING \
RETURNING id, lead_id";

/// The touches column by column, as the INSERT binds them.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    occurred_at: Vec<DateTime<Utc>>,
    received_at: Vec<DateTime<Utc>>,
    channel: Vec<String>,
    touch_type: Vec<String>,
    campaign_id: Vec<Option<String>>,
    creative_id: Vec<Option<String>>,
    content_id: Vec<Option<String>>,
    utm_source: Vec<Option<String>>,
    utm_medium: Vec<Option<String>>,
    utm_campaign: Vec<Option<String>>,
    utm_term: Vec<Option<String>>,
    utm_content: Vec<Option<String>>,
    anonymous_id: Vec<Option<String>>,
    lead_id: Vec<Option<Uuid>>,
    email: Vec<Option<String>>,
    account_id: Vec<Option<Uuid>>,
    affiliate_id: Vec<Option<String>>,
    cost: Vec<Option<Decimal>>,
    currency: Vec<Option<String>>,
    properties: Vec<Option<serde_json::Value>>,
}

impl Columns {
    fn of(touches: &[Touchpoint]) -> Self {
        let mut c = Columns::default();
        for t in touches {
            let t = t.get();
            c.id.push(t.touchpoint_id);
            c.occurred_at.push(t.occurred_at);
            c.received_at.push(t.received_at);
            c.channel.push(t.channel.clone());
            c.touch_type.push(t.touch_type.clone());
            c.campaign_id.push(t.campaign_id.clone());
            c.creative_id.push(t.creative_id.clone());
            c.content_id.push(t.content_id.clone());
            c.utm_source.push(t.utm_source.clone());
            c.utm_medium.push(t.utm_medium.clone());
            c.utm_campaign.push(t.utm_campaign.clone());
            c.utm_term.push(t.utm_term.clone());
            c.utm_content.push(t.utm_content.clone());
            c.anonymous_id.push(t.anonymous_id.clone());
            c.lead_id.push(t.lead_id);
            c.email.push(t.email.clone());
            c.account_id.push(t.account_id);
            c.affiliate_id.push(t.affiliate_id.clone());
            c.cost.push(t.cost);
            c.currency
                .push(t.currency.as_ref().map(|c| c.as_str().to_string()));
            c.properties
                .push((!t.properties.is_null()).then(|| t.properties.clone()));
        }
        c
    }
}

/// A stored touchpoint, as read back (written column by column by [`insert`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = touchpoints)]
pub struct TouchpointRow {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub channel: String,
    pub touch_type: String,
    pub campaign_id: Option<String>,
    pub creative_id: Option<String>,
    pub content_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub anonymous_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub email: Option<String>,
    pub account_id: Option<Uuid>,
    pub affiliate_id: Option<String>,
    pub cost: Option<Decimal>,
    pub currency: Option<String>,
    pub properties: Option<serde_json::Value>,
}

impl From<TouchpointRow> for Touchpoint {
    fn from(r: TouchpointRow) -> Self {
        Touchpoint::restore(TouchpointRecorded {
            touchpoint_id: r.id,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            channel: r.channel,
            touch_type: r.touch_type,
            campaign_id: r.campaign_id,
            creative_id: r.creative_id,
            content_id: r.content_id,
            utm_source: r.utm_source,
            utm_medium: r.utm_medium,
            utm_campaign: r.utm_campaign,
            utm_term: r.utm_term,
            utm_content: r.utm_content,
            anonymous_id: r.anonymous_id,
            lead_id: r.lead_id,
            email: r.email,
            account_id: r.account_id,
            affiliate_id: r.affiliate_id,
            cost: r.cost,
            // Written from a parsed currency, so it parses back.
            currency: r.currency.and_then(|c| c.parse().ok()),
            properties: r.properties.unwrap_or_default(),
        })
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Touchpoint>> {
    Ok(touchpoints::table
        .find(id)
        .select(TouchpointRow::as_select())
        .first(conn)
        .optional()?
        .map(Touchpoint::from))
}

/// What `GET /v1/touchpoints` filters on; every field set must match.
#[derive(Debug, Default, Clone)]
pub struct TouchpointFilter {
    pub lead_id: Option<Uuid>,
    pub anonymous_id: Option<String>,
    pub campaign_id: Option<String>,
    pub channel: Option<String>,
    /// `occurred_at` at or after.
    pub from: Option<DateTime<Utc>>,
    /// `occurred_at` before.
    pub to: Option<DateTime<Utc>>,
}

/// Up to `limit` touches matching `filter` with an id after `after`, in id order (the
/// keyset of the collection).
pub fn list(
    conn: &mut PgConnection,
    filter: &TouchpointFilter,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Touchpoint>> {
    let mut q = touchpoints::table
        .select(TouchpointRow::as_select())
        .into_boxed();
    if let Some(lead) = filter.lead_id {
        q = q.filter(touchpoints::lead_id.eq(lead));
    }
    if let Some(a) = &filter.anonymous_id {
        q = q.filter(touchpoints::anonymous_id.eq(a.clone()));
    }
    if let Some(c) = &filter.campaign_id {
        q = q.filter(touchpoints::campaign_id.eq(c.clone()));
    }
    if let Some(c) = &filter.channel {
        q = q.filter(touchpoints::channel.eq(c.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(touchpoints::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(touchpoints::occurred_at.lt(to));
    }
    if let Some(after) = after {
        q = q.filter(touchpoints::id.gt(after));
    }
    let rows: Vec<TouchpointRow> = q.order(touchpoints::id).limit(limit).load(conn)?;
    Ok(rows.into_iter().map(Touchpoint::from).collect())
}

/// A page of a lead's touches in time order, oldest first: up to `limit` after the touch
/// `(occurred_at, id)` named by `after` (served by the (lead_id, occurred_at) index).
pub fn page_of_lead(
    conn: &mut PgConnection,
    lead: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Touchpoint>> {
    let mut q = touchpoints::table
        .filter(touchpoints::lead_id.eq(lead))
        .select(TouchpointRow::as_select())
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            touchpoints::occurred_at
                .gt(at)
                .or(touchpoints::occurred_at.eq(at).and(touchpoints::id.gt(id))),
        );
    }
    let rows: Vec<TouchpointRow> = q
        .order((touchpoints::occurred_at, touchpoints::id))
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(Touchpoint::from).collect())
}

/// The id and time of every touch of `lead` that happened in `[from, to]`, in time order:
/// what the journeys of its conversions are cut from.
pub fn times_of_lead(
    conn: &mut PgConnection,
    lead: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
    touchpoints::table
        .filter(touchpoints::lead_id.eq(lead))
        .filter(touchpoints::occurred_at.ge(from))
        .filter(touchpoints::occurred_at.le(to))
        .order((touchpoints::occurred_at, touchpoints::id))
        .select((touchpoints::id, touchpoints::occurred_at))
        .load(conn)
}
