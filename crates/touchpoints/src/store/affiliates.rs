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
}

impl AffiliateRow {
    pub fn new(id: &str, t: &AffiliateTerms, at: DateTime<Utc>) -> Self {
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

/// Creates or replaces; returns whether the affiliate is new. Run it inside a transaction.
pub fn put(conn: &mut PgConnection, row: &AffiliateRow) -> QueryResult<bool> {
    let existed = affiliates::table
        .find(&row.id)
        .select(affiliates::id)
        .for_update()
        .first::<String>(conn)
        .optional()?
        .is_some();
    diesel::insert_into(affiliates::table)
        .values(row)
        .on_conflict(affiliates::id)
        .do_update()
        .set(row)
        .execute(conn)?;
    Ok(!existed)
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
