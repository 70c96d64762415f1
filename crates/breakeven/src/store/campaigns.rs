//! Campaign rows: a budget over dates, selling a mix of products; and every campaign id
//! known, defined here or only named by events.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use platform::keyset;
use platform::sort::{Keyset, Sort};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::campaigns;
use super::{find_lock_and_page, now};
use crate::domain::records::Campaign;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub product_mix: serde_json::Value,
    pub risk_threshold: Decimal,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of `campaigns.product_mix`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MixEntry {
    product_id: Uuid,
    share: Decimal,
}

impl CampaignRow {
    /// The product mix: product ids and their shares of units sold.
    pub fn mix(&self) -> Vec<(Uuid, Decimal)> {
        serde_json::from_value::<Vec<MixEntry>>(self.product_mix.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.product_id, m.share))
            .collect()
    }
}

fn mix_json(c: &Campaign) -> serde_json::Value {
    serde_json::to_value(
        c.product_mix
            .iter()
            .map(|(product_id, share)| MixEntry {
                product_id: *product_id,
                share: *share,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// Inserts a campaign as version 1; `None` when its id is taken.
pub fn insert(conn: &mut PgConnection, c: &Campaign) -> QueryResult<Option<CampaignRow>> {
    let t = now();
    diesel::insert_into(campaigns::table)
        .values(CampaignRow {
            id: c.id.clone(),
            name: c.name.clone(),
            budget: c.budget,
            currency: c.currency.to_string(),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            product_mix: mix_json(c),
            risk_threshold: c.risk_threshold,
            version: 1,
            created_at: t,
            updated_at: t,
        })
        .on_conflict_do_nothing()
        .returning(CampaignRow::as_returning())
        .get_result(conn)
        .optional()
}

find_lock_and_page!(campaigns, CampaignRow, &str);

/// Which campaigns `GET /v1/campaigns` asks for, and the page: `limit` campaigns after the
/// keyset `after` in the order `sort`.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Updated at or after.
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub after: Option<Keyset<String>>,
    pub limit: i64,
}

/// A page of campaigns in `sort` order, ties by id.
pub fn list(conn: &mut PgConnection, f: &CampaignFilter) -> QueryResult<Vec<CampaignRow>> {
    let q = campaigns::table
        .select(CampaignRow::as_select())
        .limit(f.limit)
        .into_boxed();
    let mut q = keyset!(q, campaigns, f.sort, f.after.clone());
    if let Some(t) = f.updated_since {
        q = q.filter(campaigns::updated_at.ge(t));
    }
    q.load(conn)
}

/// The ids of the campaigns whose product mix names `product`.
pub fn selling(conn: &mut PgConnection, product: Uuid) -> QueryResult<Vec<String>> {
    campaigns::table
        .filter(campaigns::product_mix.contains(serde_json::json!([{ "product_id": product }])))
        .order(campaigns::id)
        .select(campaigns::id)
        .load(conn)
}

/// Replaces a campaign (by its id) as its next version, updated now; `None` when it does
/// not exist.
pub fn update(conn: &mut PgConnection, c: &Campaign) -> QueryResult<Option<CampaignRow>> {
    diesel::update(campaigns::table.find(&c.id))
        .set((
            campaigns::name.eq(&c.name),
            campaigns::budget.eq(c.budget),
            campaigns::currency.eq(c.currency.as_str()),
            campaigns::starts_on.eq(c.starts_on),
            campaigns::ends_on.eq(c.ends_on),
            campaigns::product_mix.eq(mix_json(c)),
            campaigns::risk_threshold.eq(c.risk_threshold),
            campaigns::version.eq(campaigns::version + 1),
            campaigns::updated_at.eq(now()),
        ))
        .returning(CampaignRow::as_returning())
        .get_result(conn)
        .optional()
}

/// A campaign id known here, and whether it is defined (else only events have named it).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct KnownId {
    #[diesel(sql_type = Text)]
    pub campaign_id: String,
    #[diesel(sql_type = Bool)]
    pub defined: bool,
}

/// Campaign ids known, defined or only seen in events: the defined first, then by id;
/// after `after` (in that order) and at most `limit` when given.
pub fn known(
    conn: &mut PgConnection,
    after: Option<&KnownId>,
    limit: Option<i64>,
) -> QueryResult<Vec<KnownId>> {
    // `c.id IS NULL` orders the defined (false) first; the row comparison resumes there.
    // Byte order ("C"), as the report's exports sort.
    diesel::sql_query(
        r#"SELECT k.campaign_id, c.id IS NOT NULL AS defined
         FROM (SELECT id AS campaign_id FROM campaigns
               UNION SELECT campaign_id FROM campaign_spend
               UNION SELECT campaign_id FROM won_deals WHERE campaign_id IS NOT NULL
               UNION SELECT campaign_id FROM attributions) k
         LEFT JOIN campaigns c ON c.id = k.campaign_id
         WHERE $1::bool IS NULL OR (c.id IS NULL, k.campaign_id COLLATE "C") > (NOT $1, $2)
         ORDER BY c.id IS NULL, k.campaign_id COLLATE "C"
         LIMIT $3"#,
    )
    .bind::<Nullable<Bool>, _>(after.map(|a| a.defined))
    .bind::<Nullable<Text>, _>(after.map(|a| a.campaign_id.as_str()))
    .bind::<Nullable<BigInt>, _>(limit)
    .load(conn)
}
