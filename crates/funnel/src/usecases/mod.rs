//! The funnel service's use cases, between `api/` or `events.rs` and `store/`: each opens
//! the transaction (or runs in the caller's), calls the domain, writes through `store/` and
//! enqueues the events it owes.

pub mod deals;
pub mod funnels;
pub mod import;
pub mod lead_facts;
pub mod reports;

use diesel::{Connection, PgConnection, QueryResult};
use platform::Db;

use crate::error::FunnelError;

/// Runs `f` in one transaction on a pooled connection, off the async workers.
async fn transaction<T, F>(db: &Db, f: F) -> Result<T, FunnelError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, FunnelError> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |conn| conn.transaction(f)).await
}

/// Runs reads that need no transaction.
async fn read<T, F>(db: &Db, f: F) -> Result<T, FunnelError>
where
    F: FnOnce(&mut PgConnection) -> QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |conn| Ok(f(conn)?)).await
}
