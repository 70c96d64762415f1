//! Affiliate terms.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::schema::affiliates;
use crate::domain::affiliate::{AffiliateTerms, CommissionModel};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = affiliates, treat_none_as_null = true)]
pub struct AffiliateRow {
    pub id: String,
    pub name: Option<String>,
    pub model: String,
    pub amount: Option<Decimal>,
    pub revenue_share_percent: Option<Decimal>,
    pub currency: String,
    pub cookie_window_days: i32,
    pub updated_at: DateTime<Utc>,
    /// The ETag: 1 when created, one more at each replacement.
    pub version: i32,
}

impl AffiliateRow {
    pub fn new(id: &str, t: &AffiliateTerms, at: DateTime<Utc>, version: i32) -> Self {
        let (amount, share) = match t.model {
            CommissionModel::FlatCpa(a) | CommissionModel::FlatCpl(a) => (Some(a), None),
            CommissionModel::RevenueShare(p) => (None, Some(p)),
        };
        AffiliateRow {
            id: id.to_string(),
            name: t.name.clone(),
            model: t.model_name().to_string(),
            amount,
            revenue_share_percent: share,
            currency: t.currency.to_string(),
            cookie_window_days: t.cookie_window_days,
            updated_at: at,
            version,
        }
    }

    /// The terms back as a domain value; rows are only ever written from valid terms.
    pub fn terms(&self) -> Option<AffiliateTerms> {
        let model = match self.model.as_str() {
            "flat_cpa" => CommissionModel::FlatCpa(self.amount?),
            "flat_cpl" => CommissionModel::FlatCpl(self.amount?),
            "revenue_share" => CommissionModel::RevenueShare(self.revenue_share_percent?),
            _ => return None,
        };
        Some(AffiliateTerms {
            name: self.name.clone(),
            model,
            currency: self.currency.parse().ok()?,
            cookie_window_days: self.cookie_window_days,
        })
    }
}

/// The current version of affiliate `id`, its row locked until the transaction ends; none
/// when it does not exist.
pub fn version_for_update(conn: &mut PgConnection, id: &str) -> QueryResult<Option<i32>> {
    affiliates::table
        .find(id)
        .select(affiliates::version)
        .for_update()
        .first(conn)
        .optional()
}

/// Inserts a new affiliate; `false` (and nothing written) when the id exists, created
/// concurrently since it was looked up.
pub fn insert(conn: &mut PgConnection, row: &AffiliateRow) -> QueryResult<bool> {
    let n = diesel::insert_into(affiliates::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces an affiliate's row (version included). Run it under [`version_for_update`].
pub fn replace(conn: &mut PgConnection, row: &AffiliateRow) -> QueryResult<()> {
    diesel::update(affiliates::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut PgConnection, id: &str) -> QueryResult<Option<AffiliateRow>> {
    affiliates::table
        .find(id)
        .select(AffiliateRow::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<AffiliateRow>> {
    affiliates::table
        .order(affiliates::id)
        .select(AffiliateRow::as_select())
        .load(conn)
}

/// Up to `limit` affiliates with an id after `after`, in id order.
pub fn page(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AffiliateRow>> {
    let mut q = affiliates::table
        .select(AffiliateRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(affiliates::id.gt(after.to_string()));
    }
    q.order(affiliates::id).limit(limit).load(conn)
}
