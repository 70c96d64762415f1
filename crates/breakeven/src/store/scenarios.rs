//! Saved scenarios: calculator inputs with their results, versioned (each save is a new
//! version; old versions stay readable).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::now;
use super::schema::scenarios;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scenarios)]
pub struct ScenarioRow {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    pub inputs: serde_json::Value,
    pub results: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

fn row(
    id: Uuid,
    version: i32,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> ScenarioRow {
    ScenarioRow {
        id,
        version,
        name: name.to_string(),
        inputs,
        results,
        created_at: now(),
    }
}

/// Saves version 1 of a new scenario.
pub fn create(
    conn: &mut PgConnection,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> QueryResult<ScenarioRow> {
    diesel::insert_into(scenarios::table)
        .values(row(Uuid::now_v7(), 1, name, inputs, results))
        .returning(ScenarioRow::as_returning())
        .get_result(conn)
}

/// Saves `version` of an existing scenario; `None` when another save took that version
/// first (the primary key (id, version) decides, so two concurrent saves of one version
/// never both land).
pub fn save_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> QueryResult<Option<ScenarioRow>> {
    diesel::insert_into(scenarios::table)
        .values(row(id, version, name, inputs, results))
        .on_conflict_do_nothing()
        .returning(ScenarioRow::as_returning())
        .get_result(conn)
        .optional()
}

/// A version of a scenario, the latest when `version` is `None`.
pub fn find(
    conn: &mut PgConnection,
    id: Uuid,
    version: Option<i32>,
) -> QueryResult<Option<ScenarioRow>> {
    let mut q = scenarios::table
        .filter(scenarios::id.eq(id))
        .select(ScenarioRow::as_select())
        .into_boxed();
    if let Some(v) = version {
        q = q.filter(scenarios::version.eq(v));
    }
    q.order(scenarios::version.desc()).first(conn).optional()
}

/// The latest version of at most `limit` scenarios, in id order, after the id `after`.
pub fn page(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ScenarioRow>> {
    let mut q = scenarios::table
        .distinct_on(scenarios::id)
        .order((scenarios::id, scenarios::version.desc()))
        .limit(limit)
        .select(ScenarioRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(scenarios::id.gt(after));
    }
    q.load(conn)
}
