//! Account rows and the domains each account claims.

use chrono::{DateTime, Utc};
use contracts::money::{Currency, Money};
use diesel::prelude::*;
use platform::keyset;
use platform::sort::{Keyset, Sort};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{account_domains, accounts};
use crate::domain::account::NewAccount;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub employees: Option<i32>,
    pub annual_revenue: Option<Decimal>,
    pub currency: Option<String>,
    pub region: Option<String>,
    pub abm_tier: String,
    pub target: bool,
    pub owner: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An account with its domains, as read.
#[derive(Debug, Clone)]
pub struct Account {
    pub row: AccountRow,
    pub domains: Vec<String>,
}

impl Account {
    pub fn annual_revenue(&self) -> Option<Money> {
        let amount = self.row.annual_revenue?;
        let currency = Currency::parse(self.row.currency.as_deref()?).ok()?;
        Some(Money::new(amount, currency))
    }
}

impl AccountRow {
    /// The row of a validated account.
    pub fn new(
        id: Uuid,
        a: &NewAccount,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> AccountRow {
        AccountRow {
            id,
            name: a.name.clone(),
            industry: a.industry.clone(),
            employees: a.employees,
            annual_revenue: a.annual_revenue.as_ref().map(|m| m.amount),
            currency: a.annual_revenue.as_ref().map(|m| m.currency.to_string()),
            region: a.region.clone(),
            abm_tier: a.abm_tier.as_str().to_string(),
            target: a.target,
            owner: a.owner.clone(),
            version,
            created_at,
            updated_at,
        }
    }
}

pub fn insert(conn: &mut PgConnection, row: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(accounts::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save(conn: &mut PgConnection, row: &AccountRow) -> QueryResult<()> {
    diesel::update(accounts::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

/// Gives the account exactly these domains. A domain another account holds is not taken:
/// it comes back with its holder, and the caller rolls back.
pub fn claim_domains(
    conn: &mut PgConnection,
    id: Uuid,
    domains: &[String],
) -> QueryResult<Option<(String, Uuid)>> {
    diesel::delete(account_domains::table.filter(account_domains::account_id.eq(id)))
        .execute(conn)?;
    for d in domains {
        let inserted = diesel::insert_into(account_domains::table)
            .values((
                account_domains::domain.eq(d),
                account_domains::account_id.eq(id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            let holder = account_domains::table
                .find(d)
                .select(account_domains::account_id)
                .first(conn)?;
            return Ok(Some((d.clone(), holder)));
        }
    }
    Ok(None)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Account>> {
    let Some(row) = accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let domains = domains_of(conn, id)?;
    Ok(Some(Account { row, domains }))
}

pub fn domains_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<String>> {
    account_domains::table
        .filter(account_domains::account_id.eq(id))
        .order(account_domains::domain)
        .select(account_domains::domain)
        .load(conn)
}

/// The account's row, locked for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Filters of `GET /v1/accounts`.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub tier: Option<String>,
    pub target: Option<bool>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub owner: Option<String>,
    /// Updated at or after.
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub after: Option<Keyset<Uuid>>,
    pub limit: i64,
}

/// One page of accounts in `sort` order, ties by id.
pub fn list(conn: &mut PgConnection, f: &AccountFilter) -> QueryResult<Vec<Account>> {
    let q = accounts::table
        .select(AccountRow::as_select())
        .limit(f.limit)
        .into_boxed();
    let mut q = keyset!(q, accounts, f.sort, f.after);
    if let Some(t) = &f.tier {
        q = q.filter(accounts::abm_tier.eq(t.clone()));
    }
    if let Some(t) = f.target {
        q = q.filter(accounts::target.eq(t));
    }
    if let Some(i) = &f.industry {
        q = q.filter(accounts::industry.eq(i.to_lowercase()));
    }
    if let Some(r) = &f.region {
        q = q.filter(accounts::region.eq(r.to_lowercase()));
    }
    if let Some(o) = &f.owner {
        q = q.filter(accounts::owner.eq(o.clone()));
    }
    if let Some(v) = f.updated_since {
        q = q.filter(accounts::updated_at.ge(v));
    }
    let rows: Vec<AccountRow> = q.load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let domains: Vec<(String, Uuid)> = account_domains::table
        .filter(account_domains::account_id.eq_any(&ids))
        .order(account_domains::domain)
        .select((account_domains::domain, account_domains::account_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let domains = domains
                .iter()
                .filter(|(_, a)| *a == row.id)
                .map(|(d, _)| d.clone())
                .collect();
            Account { row, domains }
        })
        .collect())
}

/// The account owning `domain`, if any.
pub fn account_for_domain(conn: &mut PgConnection, domain: &str) -> QueryResult<Option<Uuid>> {
    account_domains::table
        .find(domain)
        .select(account_domains::account_id)
        .first(conn)
        .optional()
}

/// The accounts owning any of `domains`, as (domain, account).
pub fn accounts_for_domains(
    conn: &mut PgConnection,
    domains: &[&str],
) -> QueryResult<Vec<(String, Uuid)>> {
    account_domains::table
        .filter(account_domains::domain.eq_any(domains))
        .select((account_domains::domain, account_domains::account_id))
        .load(conn)
}

/// Those of `ids` that name an account.
pub fn existing(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    accounts::table
        .filter(accounts::id.eq_any(ids))
        .select(accounts::id)
        .load(conn)
}
