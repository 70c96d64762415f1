//! Accounts: create and update (publishing `account.created` / `account.updated` in the
//! same transaction, and re-scoring the account's leads), read, list, and ABM engagement.

use chrono::Utc;
use contracts::money::Money;
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use platform::http::versioning;
use uuid::Uuid;

use super::{now, scoring};
use crate::domain::account::NewAccount;
use crate::error::LeadsError;
use crate::store;
use crate::store::accounts::{Account, AccountFilter, AccountRow};
use crate::store::engagement::AccountEngagement;

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Account, LeadsError> {
    store::accounts::find(conn, id)?.ok_or(LeadsError::AccountNotFound(id))
}

pub fn list(conn: &mut PgConnection, filter: &AccountFilter) -> Result<Vec<Account>, LeadsError> {
    Ok(store::accounts::list(conn, filter)?)
}

/// Gives the account its domains; a domain another account holds is a conflict.
fn claim(conn: &mut PgConnection, id: Uuid, domains: &[String]) -> Result<(), LeadsError> {
    match store::accounts::claim_domains(conn, id, domains)? {
        Some((domain, account)) => Err(LeadsError::DomainTaken { domain, account }),
        None => Ok(()),
    }
}

/// Creates the account and publishes `account.created`.
pub fn create(
    conn: &mut PgConnection,
    a: &NewAccount,
    trace: &TraceContext,
) -> Result<Account, LeadsError> {
    conn.transaction(|tx| {
        let now = now();
        let row = AccountRow::new(Uuid::now_v7(), a, 1, now, now);
        store::accounts::insert(tx, &row)?;
        claim(tx, row.id, &a.domains)?;
        let account = Account {
            row,
            domains: a.domains.clone(),
        };
        outbox::enqueue(tx, &created_event(&account), Some(trace))?;
        Ok(account)
    })
}

/// Applies a PATCH: `patch` turns the current account into its new state, saved when
/// `expected_version` is current and something changed, with `account.updated` naming the
/// changed fields. Fit rules read account attributes, so the account's leads are re-scored.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    patch: impl FnOnce(&Account) -> Result<NewAccount, LeadsError>,
    trace: &TraceContext,
) -> Result<Account, LeadsError> {
    conn.transaction(|tx| {
        let a = patch(&find(tx, id)?)?;
        let current = store::accounts::lock(tx, id)?.ok_or(LeadsError::AccountNotFound(id))?;
        versioning::check(expected_version, current.version)?;
        let row = AccountRow::new(id, &a, current.version + 1, current.created_at, now());
        let before = Account {
            domains: store::accounts::domains_of(tx, id)?,
            row: current,
        };
        let changed = changed_fields(&before, &a);
        let account = if changed.is_empty() {
            before
        } else {
            store::accounts::save(tx, &row)?;
            claim(tx, id, &a.domains)?;
            let account = Account {
                row,
                domains: a.domains.clone(),
            };
            outbox::enqueue(tx, &updated_event(&account, changed), Some(trace))?;
            account
        };
        rescore_leads(tx, id, trace)?;
        Ok(account)
    })
}

fn rescore_leads(
    conn: &mut PgConnection,
    account_id: Uuid,
    trace: &TraceContext,
) -> Result<(), LeadsError> {
    let rows = store::leads::of_account(conn, account_id)?;
    let now = Utc::now();
    let model = scoring::current_model(conn)?;
    for row in rows {
        let before = scoring::scores_now(&row, &model.1, now);
        scoring::rescore(
            conn,
            &model,
            row,
            Some(before),
            "account_updated",
            now,
            Some(trace),
        )?;
    }
    Ok(())
}

fn changed_fields(before: &Account, a: &NewAccount) -> Vec<String> {
    let b = &before.row;
    let revenue = a
        .annual_revenue
        .clone()
        .map(|m| Money::new(m.amount.normalize(), m.currency));
    let same = [
        ("name", b.name == a.name),
        ("domains", before.domains == a.domains),
        ("industry", b.industry == a.industry),
        ("employees", b.employees == a.employees),
        ("annual_revenue", before.annual_revenue() == revenue),
        ("region", b.region == a.region),
        ("abm_tier", b.abm_tier == a.abm_tier.as_str()),
        ("target", b.target == a.target),
        ("owner", b.owner == a.owner),
    ];
    same.iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// An event carrying the whole account, plus the event's own fields.
macro_rules! account_event {
    ($event:ident, $account:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let a: &Account = $account;
        contracts::leads::$event {
            account_id: a.row.id,
            name: a.row.name.clone(),
            domains: a.domains.clone(),
            industry: a.row.industry.clone(),
            employees: a.row.employees.map(|n| n as u32),
            annual_revenue: a.annual_revenue(),
            region: a.row.region.clone(),
            abm_tier: a.row.abm_tier.clone(),
            target: a.row.target,
            owner: a.row.owner.clone(),
            $($field: $value),*
        }
    }};
}

fn created_event(a: &Account) -> contracts::leads::AccountCreated {
    account_event!(AccountCreated, a, { created_at: a.row.created_at })
}

fn updated_event(a: &Account, changed: Vec<String>) -> contracts::leads::AccountUpdated {
    account_event!(AccountUpdated, a, {
        version: a.row.version as u64,
        changed: changed,
        updated_at: a.row.updated_at,
    })
}

/// An account's engagement for ABM, decayed to now under the current model.
pub fn engagement(conn: &mut PgConnection, id: Uuid) -> Result<AccountEngagement, LeadsError> {
    find(conn, id)?;
    let (_, model) = scoring::current_model(conn)?;
    Ok(store::engagement::account_engagement(
        conn,
        id,
        model.half_life_days,
    )?)
}
