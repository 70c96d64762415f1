//! Funnel rows and their versions (the stages of each version, as JSON).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{funnel_versions, funnels};
use crate::domain::funnel::{FunnelDef, Stage};

/// A funnel at one version.
#[derive(Debug, Clone)]
pub struct Funnel {
    pub id: Uuid,
    /// The version of the stage list.
    pub version: i32,
    /// Bumped by every change of the funnel: its ETag.
    pub revision: i32,
    pub def: FunnelDef,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = funnels)]
struct FunnelRow {
    id: Uuid,
    name: String,
    version: i32,
    open_on_lead_created: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i32,
}

fn stages_of(json: serde_json::Value) -> QueryResult<Vec<Stage>> {
    serde_json::from_value(json)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

fn assemble(row: FunnelRow, stages: Vec<Stage>) -> Funnel {
    Funnel {
        id: row.id,
        version: row.version,
        revision: row.revision,
        def: FunnelDef {
            name: row.name,
            stages,
            open_on_lead_created: row.open_on_lead_created,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Writes a new funnel row at `f.version`; its stages go in with [`insert_version`].
pub fn insert(conn: &mut PgConnection, f: &Funnel) -> QueryResult<()> {
    diesel::insert_into(funnels::table)
        .values(FunnelRow {
            id: f.id,
            name: f.def.name.clone(),
            version: f.version,
            open_on_lead_created: f.def.open_on_lead_created,
            created_at: f.created_at,
            updated_at: f.updated_at,
            revision: f.revision,
        })
        .execute(conn)?;
    Ok(())
}

pub fn insert_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    stages: &[Stage],
) -> QueryResult<()> {
    let json = serde_json::to_value(stages)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(funnel_versions::table)
        .values((
            funnel_versions::funnel_id.eq(id),
            funnel_versions::version.eq(version),
            funnel_versions::stages.eq(json),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the funnel row's name, flag, current version, revision and update time.
pub fn update(conn: &mut PgConnection, f: &Funnel) -> QueryResult<()> {
    diesel::update(funnels::table.find(f.id))
        .set((
            funnels::name.eq(&f.def.name),
            funnels::version.eq(f.version),
            funnels::open_on_lead_created.eq(f.def.open_on_lead_created),
            funnels::updated_at.eq(f.updated_at),
            funnels::revision.eq(f.revision),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stages of one version of a funnel.
fn stages(conn: &mut PgConnection, id: Uuid, version: i32) -> QueryResult<Option<Vec<Stage>>> {
    funnel_versions::table
        .find((id, version))
        .select(funnel_versions::stages)
        .first::<serde_json::Value>(conn)
        .optional()?
        .map(stages_of)
        .transpose()
}

/// The funnel at its current version, or at `version`.
pub fn find(
    conn: &mut PgConnection,
    id: Uuid,
    version: Option<i32>,
) -> QueryResult<Option<Funnel>> {
    let Some(row) = funnels::table
        .find(id)
        .select(FunnelRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let v = version.unwrap_or(row.version);
    let Some(stages) = stages(conn, id, v)? else {
        return Ok(None);
    };
    let mut f = assemble(row, stages);
    f.version = v;
    Ok(Some(f))
}

/// The same at the current version, with the funnel row locked for the rest of the
/// transaction.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Funnel>> {
    let locked = funnels::table
        .find(id)
        .select(funnels::id)
        .for_update()
        .first::<Uuid>(conn)
        .optional()?;
    match locked {
        Some(_) => find(conn, id, None),
        None => Ok(None),
    }
}

/// Every funnel at its current version, by id.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<Funnel>> {
    page(conn, None, i64::MAX)
}

/// Up to `limit` funnels at their current version, by id, after the id `after`.
pub fn page(conn: &mut PgConnection, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Funnel>> {
    let mut q = funnels::table
        .inner_join(
            funnel_versions::table.on(funnel_versions::funnel_id
                .eq(funnels::id)
                .and(funnel_versions::version.eq(funnels::version))),
        )
        .select((FunnelRow::as_select(), funnel_versions::stages))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(funnels::id.gt(after));
    }
    let rows: Vec<(FunnelRow, serde_json::Value)> = q.order(funnels::id).limit(limit).load(conn)?;
    rows.into_iter()
        .map(|(r, s)| Ok(assemble(r, stages_of(s)?)))
        .collect()
}

/// The stages of one funnel version, as a definition for checking and publishing moves
/// (its name and flags are not filled in). Versions never change once written, so they are
/// cached for the life of the process: a move costs no funnel queries after the first.
pub fn version_def(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> QueryResult<Option<Arc<FunnelDef>>> {
    type Versions = Mutex<HashMap<(Uuid, i32), Arc<FunnelDef>>>;
    static CACHE: OnceLock<Versions> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(def) = cache
        .lock()
        .ok()
        .and_then(|c| c.get(&(id, version)).cloned())
    {
        return Ok(Some(def));
    }
    let Some(stages) = stages(conn, id, version)? else {
        return Ok(None);
    };
    let def = Arc::new(FunnelDef {
        name: String::new(),
        stages,
        open_on_lead_created: false,
    });
    if let Ok(mut c) = cache.lock() {
        c.insert((id, version), def.clone());
    }
    Ok(Some(def))
}
