//! Accounts and their domains; `account.created` / `account.updated` go out in the same
//! transaction.

use chrono::{DateTime, SubsecRound, Utc};
use contracts::money::{Currency, Money};
use diesel::prelude::*;
use platform::TraceContext;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{account_domains, accounts};
use crate::domain::account::{AccountInput, MoneyInput, NewAccount};
use crate::error::LeadsError;

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

    /// The account as a client would send it: the base a PATCH is merged onto.
    pub fn to_input(&self) -> AccountInput {
        AccountInput {
            name: Some(self.row.name.clone()),
            domains: Some(self.domains.clone()),
            industry: self.row.industry.clone(),
            employees: self.row.employees.map(i64::from),
            annual_revenue: self.annual_revenue().map(|m| MoneyInput {
                amount: Some(m.amount.to_string()),
                currency: Some(m.currency.to_string()),
            }),
            region: self.row.region.clone(),
            abm_tier: Some(self.row.abm_tier.clone()),
            target: Some(self.row.target),
            owner: self.row.owner.clone(),
        }
    }

    fn created_event(&self) -> contracts::leads::AccountCreated {
        contracts::leads::AccountCreated {
            account_id: self.row.id,
            name: self.row.name.clone(),
            domains: self.domains.clone(),
            industry: self.row.industry.clone(),
            employees: self.row.employees.map(|n| n as u32),
            annual_revenue: self.annual_revenue(),
            region: self.row.region.clone(),
            abm_tier: self.row.abm_tier.clone(),
            target: self.row.target,
            owner: self.row.owner.clone(),
            created_at: self.row.created_at,
        }
    }

    fn updated_event(&self, changed: Vec<String>) -> contracts::leads::AccountUpdated {
        contracts::leads::AccountUpdated {
            account_id: self.row.id,
            version: self.row.version as u64,
            changed,
            name: self.row.name.clone(),
            domains: self.domains.clone(),
            industry: self.row.industry.clone(),
            employees: self.row.employees.map(|n| n as u32),
            annual_revenue: self.annual_revenue(),
            region: self.row.region.clone(),
            abm_tier: self.row.abm_tier.clone(),
            target: self.row.target,
            owner: self.row.owner.clone(),
            updated_at: self.row.updated_at,
        }
    }
}

fn row_from(id: Uuid, a: &NewAccount, version: i32, created: DateTime<Utc>) -> AccountRow {
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
        created_at: created,
        updated_at: Utc::now().trunc_subsecs(6),
    }
}

/// Claims each domain for the account; a domain another account holds is a 409.
fn claim_domains(conn: &mut PgConnection, id: Uuid, domains: &[String]) -> Result<(), LeadsError> {
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
            let account = account_domains::table
                .find(d)
                .select(account_domains::account_id)
                .first(conn)?;
            return Err(LeadsError::DomainTaken {
                domain: d.clone(),
                account,
            });
        }
    }
    Ok(())
}

pub fn create_account(
    conn: &mut PgConnection,
    a: &NewAccount,
    trace: &TraceContext,
) -> Result<Account, LeadsError> {
    let now = Utc::now().trunc_subsecs(6);
    let mut row = row_from(Uuid::now_v7(), a, 1, now);
    row.updated_at = now;
    diesel::insert_into(accounts::table)
        .values(&row)
        .execute(conn)?;
    claim_domains(conn, row.id, &a.domains)?;
    let account = Account {
        row,
        domains: a.domains.clone(),
    };
    platform::bus::outbox::enqueue(conn, &account.created_event(), Some(trace))?;
    Ok(account)
}

pub fn find_account(conn: &mut PgConnection, id: Uuid) -> Result<Option<Account>, LeadsError> {
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

fn domains_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<String>> {
    account_domains::table
        .filter(account_domains::account_id.eq(id))
        .order(account_domains::domain)
        .select(account_domains::domain)
        .load(conn)
}

/// Replaces the account with `a` if `expected_version` is current; returns the new state
/// and the names of the fields that changed.
pub fn update_account(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    a: &NewAccount,
    trace: &TraceContext,
) -> Result<Account, LeadsError> {
    let current = accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(LeadsError::AccountNotFound(id))?;
    if current.version != expected_version {
        return Err(LeadsError::VersionMismatch {
            current: current.version,
        });
    }
    let row = row_from(id, a, current.version + 1, current.created_at);
    let before = Account {
        domains: domains_of(conn, id)?,
        row: current,
    };
    let changed = changed_fields(&before, a);
    if changed.is_empty() {
        return Ok(before);
    }
    diesel::update(accounts::table.find(id))
        .set(&row)
        .execute(conn)?;
    claim_domains(conn, id, &a.domains)?;
    let account = Account {
        row,
        domains: a.domains.clone(),
    };
    platform::bus::outbox::enqueue(conn, &account.updated_event(changed), Some(trace))?;
    Ok(account)
}

fn changed_fields(before: &Account, a: &NewAccount) -> Vec<String> {
    let b = &before.row;
    let mut changed = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            changed.push(name.to_string());
        }
    };
    check("name", b.name == a.name);
    check("domains", before.domains == a.domains);
    check("industry", b.industry == a.industry);
    check("employees", b.employees == a.employees);
    check(
        "annual_revenue",
        before.annual_revenue()
            == a.annual_revenue
                .clone()
                .map(|m| Money::new(m.amount.normalize(), m.currency)),
    );
    check("region", b.region == a.region);
    check("abm_tier", b.abm_tier == a.abm_tier.as_str());
    check("target", b.target == a.target);
    check("owner", b.owner == a.owner);
    changed
}

/// Filters of `GET /v1/accounts`.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub tier: Option<String>,
    pub target: Option<bool>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub owner: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list_accounts(
    conn: &mut PgConnection,
    f: &AccountFilter,
) -> Result<Vec<Account>, LeadsError> {
    let mut q = accounts::table
        .select(AccountRow::as_select())
        .order(accounts::id)
        .limit(f.limit)
        .into_boxed();
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
    if let Some(after) = f.after {
        q = q.filter(accounts::id.gt(after));
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
