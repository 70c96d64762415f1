//! Funnel definitions and their versions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{funnel_versions, funnels};
use crate::domain::funnel::{FunnelDef, Stage};
use crate::error::FunnelError;

/// A funnel at one version.
#[derive(Debug, Clone)]
pub struct Funnel {
    pub id: Uuid,
    pub version: i32,
    pub def: FunnelDef,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable)]
struct FunnelRow {
    id: Uuid,
    name: String,
    version: i32,
    open_on_lead_created: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn stages_of(json: serde_json::Value) -> Result<Vec<Stage>, FunnelError> {
    serde_json::from_value(json).map_err(|e| FunnelError::Unexpected(e.into()))
}

fn assemble(row: FunnelRow, stages: serde_json::Value) -> Result<Funnel, FunnelError> {
    Ok(Funnel {
        id: row.id,
        version: row.version,
        def: FunnelDef {
            name: row.name,
            stages: stages_of(stages)?,
            open_on_lead_created: row.open_on_lead_created,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub fn create(conn: &mut PgConnection, def: &FunnelDef) -> Result<Funnel, FunnelError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    diesel::insert_into(funnels::table)
        .values((
            funnels::id.eq(id),
            funnels::name.eq(&def.name),
            funnels::version.eq(1),
            funnels::open_on_lead_created.eq(def.open_on_lead_created),
            funnels::created_at.eq(now),
            funnels::updated_at.eq(now),
        ))
        .execute(conn)?;
    insert_version(conn, id, 1, &def.stages)?;
    Ok(Funnel {
        id,
        version: 1,
        def: def.clone(),
        created_at: now,
        updated_at: now,
    })
}

fn insert_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    stages: &[Stage],
) -> Result<(), FunnelError> {
    let json = serde_json::to_value(stages).map_err(|e| FunnelError::Unexpected(e.into()))?;
    diesel::insert_into(funnel_versions::table)
        .values((
            funnel_versions::funnel_id.eq(id),
            funnel_versions::version.eq(version),
            funnel_versions::stages.eq(json),
        ))
        .execute(conn)?;
    Ok(())
}

/// The funnel at its current version, or at `version`.
pub fn find(
    conn: &mut PgConnection,
    id: Uuid,
    version: Option<i32>,
) -> Result<Option<Funnel>, FunnelError> {
    let Some(row) = funnels::table
        .find(id)
        .select((
            funnels::id,
            funnels::name,
            funnels::version,
            funnels::open_on_lead_created,
            funnels::created_at,
            funnels::updated_at,
        ))
        .first::<FunnelRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let v = version.unwrap_or(row.version);
    let Some(stages) = funnel_versions::table
        .find((id, v))
        .select(funnel_versions::stages)
        .first::<serde_json::Value>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut f = assemble(row, stages)?;
    f.version = v;
    Ok(Some(f))
}

/// The same, with the funnel row locked for the rest of the transaction.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> Result<Option<Funnel>, FunnelError> {
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

/// Replaces the definition. New stages make a new version; a new name or flag alone does not.
pub fn update(conn: &mut PgConnection, id: Uuid, def: &FunnelDef) -> Result<Funnel, FunnelError> {
    let current = find_for_update(conn, id)?.ok_or(FunnelError::FunnelNotFound(id))?;
    let version = if current.def.stages == def.stages {
        current.version
    } else {
        insert_version(conn, id, current.version + 1, &def.stages)?;
        current.version + 1
    };
    let now = Utc::now();
    diesel::update(funnels::table.find(id))
        .set((
            funnels::name.eq(&def.name),
            funnels::version.eq(version),
            funnels::open_on_lead_created.eq(def.open_on_lead_created),
            funnels::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Funnel {
        id,
        version,
        def: def.clone(),
        created_at: current.created_at,
        updated_at: now,
    })
}

/// Every funnel at its current version, oldest first.
pub fn list(conn: &mut PgConnection) -> Result<Vec<Funnel>, FunnelError> {
    let rows: Vec<(FunnelRow, serde_json::Value)> = funnels::table
        .inner_join(
            funnel_versions::table.on(funnel_versions::funnel_id
                .eq(funnels::id)
                .and(funnel_versions::version.eq(funnels::version))),
        )
        .order((funnels::created_at, funnels::id))
        .select((
            (
                funnels::id,
                funnels::name,
                funnels::version,
                funnels::open_on_lead_created,
                funnels::created_at,
                funnels::updated_at,
            ),
            funnel_versions::stages,
        ))
        .load(conn)?;
    rows.into_iter().map(|(r, s)| assemble(r, s)).collect()
}

/// The stages of one funnel version, as a definition for checking and publishing moves
/// (its name and flags are not filled in). Versions never change once written, so they are
/// cached for the life of the process: a move costs no funnel queries after the first.
pub fn version_def(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> Result<Option<Arc<FunnelDef>>, FunnelError> {
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
    let Some(stages) = funnel_versions::table
        .find((id, version))
        .select(funnel_versions::stages)
        .first::<serde_json::Value>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let def = Arc::new(FunnelDef {
        name: String::new(),
        stages: stages_of(stages)?,
        open_on_lead_created: false,
    });
    if let Ok(mut c) = cache.lock() {
        c.insert((id, version), def.clone());
    }
    Ok(Some(def))
}

/// Funnels whose deals lead events may open or advance.
pub fn lead_driven(conn: &mut PgConnection) -> Result<Vec<Funnel>, FunnelError> {
    Ok(list(conn)?
        .into_iter()
        .filter(|f| {
            f.def.open_on_lead_created
                || f.def
                    .stages
                    .iter()
                    .any(|s| s.lifecycle.is_some() || s.on_qualified)
        })
        .collect())
}
