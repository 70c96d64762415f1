//! The use cases: what the API and the consumed events ask of the service. An API use
//! case opens its transaction (an event's runs in the consumer's, with the inbox row),
//! calls the domain, writes through `store/` and enqueues the events it causes in the
//! outbox, in that same transaction.

pub mod alerts;
pub mod campaigns;
pub mod deals;
pub mod fixed_costs;
pub mod months;
pub mod products;
pub mod progress;
pub mod scenarios;
pub mod spend;

use diesel::{PgConnection, QueryResult};
use platform::Db;
use platform::http::versioning;

use crate::error::BreakevenError;

/// Runs store reads on the pool, outside a transaction.
async fn read<T, F>(db: &Db, f: F) -> Result<T, BreakevenError>
where
    F: FnOnce(&mut PgConnection) -> QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |conn| f(conn).map_err(BreakevenError::from))
        .await
}

/// Runs `f` in one transaction on the pool: its writes and the events it enqueues commit
/// together or not at all.
async fn transaction<T, F>(db: &Db, f: F) -> Result<T, BreakevenError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, BreakevenError> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |conn| conn.build_transaction().run(f)).await
}

/// The row `find` reads, or `NotFound` naming `what`.
async fn get<T, F>(db: &Db, what: String, find: F) -> Result<T, BreakevenError>
where
    F: FnOnce(&mut PgConnection) -> QueryResult<Option<T>> + Send + 'static,
    T: Send + 'static,
{
    found(read(db, find).await?, what)
}

/// `row`, or `NotFound` naming `what`.
fn found<T>(row: Option<T>, what: String) -> Result<T, BreakevenError> {
    row.ok_or(BreakevenError::NotFound(what))
}

/// The current (locked) row a replace works on: `NotFound` naming `what` when there is
/// none, a 412 naming its ETag when `expected` (the client's `If-Match`) is not its
/// version.
fn current<T>(
    row: Option<T>,
    what: String,
    expected: i32,
    version: impl Fn(&T) -> i32,
) -> Result<T, BreakevenError> {
    let row = found(row, what)?;
    versioning::check(expected, version(&row))?;
    Ok(row)
}
