//! Saved scenarios: calculator inputs with their results, versioned (each save is a new
//! version; old versions stay readable).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::scenarios;
use super::{LIST_LIMIT, now};

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

fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> QueryResult<ScenarioRow> {
    diesel::insert_into(scenarios::table)
        .values(ScenarioRow {
            id,
            version,
            name: name.to_string(),
            inputs,
            results,
            created_at: now(),
        })
        .returning(ScenarioRow::as_returning())
        .get_result(conn)
}

/// Saves version 1 of a new scenario.
pub fn create(
    conn: &mut PgConnection,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> QueryResult<ScenarioRow> {
    insert(conn, Uuid::now_v7(), 1, name, inputs, results)
}

/// Saves the next version of an existing scenario; `None` when it does not exist. The
/// primary key (id, version) makes two concurrent saves of the same version collide
/// instead of one silently winning.
pub fn save_version(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    inputs: serde_json::Value,
    results: serde_json::Value,
) -> QueryResult<Option<ScenarioRow>> {
    let Some(latest) = find(conn, id, None)? else {
        return Ok(None);
    };
    insert(conn, id, latest.version + 1, name, inputs, results).map(Some)
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

/// The latest version of every scenario.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<ScenarioRow>> {
    scenarios::table
        .distinct_on(scenarios::id)
        .order((scenarios::id, scenarios::version.desc()))
        .limit(LIST_LIMIT)
        .select(ScenarioRow::as_select())
        .load(conn)
}
