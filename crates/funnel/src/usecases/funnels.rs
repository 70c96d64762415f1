//! Funnel definitions: create, replace (new stages make a new version; every replace a new
//! revision), read, list.

use chrono::Utc;
use diesel::PgConnection;
use platform::Db;
use platform::http::versioning;
use uuid::Uuid;

use super::{read, transaction};
use crate::domain::funnel::FunnelDef;
use crate::error::FunnelError;
use crate::store::funnels as store;

pub use crate::store::funnels::Funnel;

/// Creates a funnel at version 1 and revision 1, in the caller's transaction.
pub fn create(conn: &mut PgConnection, def: FunnelDef) -> Result<Funnel, FunnelError> {
    let now = Utc::now();
    let f = Funnel {
        id: Uuid::now_v7(),
        version: 1,
        revision: 1,
        def,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &f)?;
    store::insert_version(conn, f.id, f.version, &f.def.stages)?;
    Ok(f)
}

/// Replaces the definition if the funnel is still at `expected_revision`. New stages make a
/// new version; a new name or flag alone does not. Every replace makes a new revision.
pub async fn replace(
    db: &Db,
    id: Uuid,
    expected_revision: i32,
    def: FunnelDef,
) -> Result<Funnel, FunnelError> {
    transaction(db, move |tx| {
        let current = store::find_for_update(tx, id)?.ok_or(FunnelError::FunnelNotFound(id))?;
        versioning::check(expected_revision, current.revision)?;
        let version = if current.def.stages == def.stages {
            current.version
        } else {
            store::insert_version(tx, id, current.version + 1, &def.stages)?;
            current.version + 1
        };
        let f = Funnel {
            id,
            version,
            revision: current.revision + 1,
            def,
            created_at: current.created_at,
            updated_at: Utc::now(),
        };
        store::update(tx, &f)?;
        Ok(f)
    })
    .await
}

/// The funnel at its current version, or at `version`.
pub async fn find(db: &Db, id: Uuid, version: Option<i32>) -> Result<Funnel, FunnelError> {
    read(db, move |conn| store::find(conn, id, version))
        .await?
        .ok_or(FunnelError::FunnelNotFound(id))
}

/// Up to `limit` funnels at their current version, by id, after `after`.
pub async fn list(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<Funnel>, FunnelError> {
    read(db, move |conn| store::page(conn, after, limit)).await
}
