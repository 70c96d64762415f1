//! Saved scenarios: each save is a new version, and two scenarios' results compare figure
//! by figure when they are in one currency.

use diesel::PgConnection;
use platform::Db;
use platform::http::versioning;
use platform::validation::Invalid;
use uuid::Uuid;

use super::{current, found, get as get_row, read, transaction};
use crate::domain::scenario::{FigureDiff, compare as compare_results};
use crate::error::BreakevenError;
use crate::store::scenarios::{self as store, ScenarioRow};

/// Saves version 1 of a new scenario in the caller's transaction (the API's, which
/// records its `Idempotency-Key` with it).
pub fn create(
    conn: &mut PgConnection,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> Result<ScenarioRow, BreakevenError> {
    Ok(store::create(conn, name, inputs, results)?)
}

/// Saves the version after `expected`, which must be the scenario's latest.
pub async fn save_version(
    db: &Db,
    id: Uuid,
    expected: i32,
    name: String,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> Result<ScenarioRow, BreakevenError> {
    transaction(db, move |conn| {
        let what = format!("scenario {id}");
        let latest = current(store::find(conn, id, None)?, what, expected, |r| r.version)?;
        match store::save_version(conn, id, latest.version + 1, &name, inputs, results)? {
            Some(row) => Ok(row),
            // A concurrent save took the next version first: this one is stale now.
            None => {
                let now = store::find(conn, id, None)?.map_or(latest.version + 1, |r| r.version);
                Err(versioning::stale(now).into())
            }
        }
    })
    .await
}

/// A version of a scenario, the latest when `version` is `None`.
pub async fn get(db: &Db, id: Uuid, version: Option<i32>) -> Result<ScenarioRow, BreakevenError> {
    get_row(db, format!("scenario {id}"), move |conn| {
        store::find(conn, id, version)
    })
    .await
}

/// The latest version of at most `limit` scenarios in id order, after the id `after`.
pub async fn page(
    db: &Db,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ScenarioRow>, BreakevenError> {
    read(db, move |conn| store::page(conn, after, limit)).await
}

/// Two scenario versions and every figure of their results side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub base: ScenarioRow,
    pub other: ScenarioRow,
    pub currency: String,
    pub figures: Vec<FigureDiff>,
}

/// Compares a scenario (version) with another; both must be in one currency.
pub async fn compare(
    db: &Db,
    (id, version): (Uuid, Option<i32>),
    (other_id, other_version): (Uuid, Option<i32>),
) -> Result<Comparison, BreakevenError> {
    let (base, other) = read(db, move |conn| {
        Ok((
            store::find(conn, id, version)?,
            store::find(conn, other_id, other_version)?,
        ))
    })
    .await?;
    let base = found(base, format!("scenario {id}"))?;
    let other = other.ok_or_else(|| {
        Invalid::field("other_id", "does not name an existing scenario (version)")
    })?;
    let currency = |r: &ScenarioRow| r.results["currency"].as_str().unwrap_or("").to_string();
    if currency(&base) != currency(&other) {
        return Err(Invalid::field(
            "other_id",
            format!(
                "currency mismatch: {} against {}",
                currency(&base),
                currency(&other)
            ),
        )
        .into());
    }
    Ok(Comparison {
        currency: currency(&base),
        figures: compare_results(&base.results, &other.results),
        base,
        other,
    })
}
