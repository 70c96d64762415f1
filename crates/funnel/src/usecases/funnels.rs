//! Funnel definitions: create, replace (new stages make a new version), read, list.

use chrono::Utc;
use platform::Db;
use uuid::Uuid;

use super::{read, transaction};
use crate::domain::funnel::FunnelDef;
use crate::error::FunnelError;
use crate::store::funnels as store;

pub use crate::store::funnels::Funnel;

/// Creates a funnel at version 1.
pub async fn create(db: &Db, def: FunnelDef) -> Result<Funnel, FunnelError> {
    transaction(db, move |tx| {
        let now = Utc::now();
        let f = Funnel {
            id: Uuid::now_v7(),
            version: 1,
            def,
            created_at: now,
            updated_at: now,
        };
        store::insert(tx, &f)?;
        store::insert_version(tx, f.id, f.version, &f.def.stages)?;
        Ok(f)
    })
    .await
}

/// Replaces the definition. New stages make a new version; a new name or flag alone does not.
pub async fn replace(db: &Db, id: Uuid, def: FunnelDef) -> Result<Funnel, FunnelError> {
    transaction(db, move |tx| {
        let current = store::find_for_update(tx, id)?.ok_or(FunnelError::FunnelNotFound(id))?;
        let version = if current.def.stages == def.stages {
            current.version
        } else {
            store::insert_version(tx, id, current.version + 1, &def.stages)?;
            current.version + 1
        };
        let f = Funnel {
            id,
            version,
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

/// Every funnel at its current version, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Funnel>, FunnelError> {
    read(db, store::list).await
}
