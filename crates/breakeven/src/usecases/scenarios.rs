//! Saved scenarios: each save is a new version, and two scenarios' results compare figure
//! by figure when they are in one currency.

use platform::Db;
use platform::validation::Invalid;
use uuid::Uuid;

use super::{found, get as get_row, read};
use crate::domain::scenario::{FigureDiff, compare as compare_results};
use crate::error::BreakevenError;
use crate::store::scenarios::{self as store, ScenarioRow};

/// Saves version 1 of a new scenario.
pub async fn create(
    db: &Db,
    name: String,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> Result<ScenarioRow, BreakevenError> {
    read(db, move |conn| store::create(conn, &name, inputs, results)).await
}

/// Saves the next version of a scenario.
pub async fn save_version(
    db: &Db,
    id: Uuid,
    name: String,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> Result<ScenarioRow, BreakevenError> {
    get_row(db, format!("scenario {id}"), move |conn| {
        store::save_version(conn, id, &name, inputs, results)
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

/// The latest version of every scenario.
pub async fn list(db: &Db) -> Result<Vec<ScenarioRow>, BreakevenError> {
    read(db, store::list).await
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
