//! Recording touchpoints: each new touch stored once, stitched to its lead, recorded as a
//! micro-conversion when its type is one, and published as `touchpoint.recorded`, all in one
//! transaction.

use std::collections::{HashMap, HashSet};

use contracts::touchpoints::TouchpointRecorded;
use diesel::prelude::*;
use platform::{Db, TraceContext};
use uuid::Uuid;

use crate::config::TouchpointsConfig;
use crate::domain::Touchpoint;
use crate::error::TouchpointsError;
pub use crate::store::touchpoints::TouchpointFilter;
use crate::store::{conversions, identity, touchpoints as store};

/// What a write did: the touches stored now (with the lead they were stitched to) and how
/// many were already there.
#[derive(Debug, Default)]
pub struct Written {
    pub inserted: Vec<(Uuid, Option<Uuid>)>,
    pub duplicates: usize,
}

/// Records `touches` in one transaction (see [`record_in`]).
pub async fn record(
    db: &Db,
    touches: Vec<Touchpoint>,
    config: std::sync::Arc<TouchpointsConfig>,
    trace: TraceContext,
) -> Result<Written, TouchpointsError> {
    db.run(move |conn| {
        conn.transaction(|tx| record_in(tx, &touches, &config, Some(&trace)))
            .map_err(TouchpointsError::from)
    })
    .await
}

/// Stores the touches that are new (by id), stitched through the identity map and merges,
/// records the micro-conversions among them, and queues one `touchpoint.recorded` per new
/// touch, `events_per_message` to an AMQP message. Run it inside a transaction.
pub fn record_in(
    conn: &mut PgConnection,
    touches: &[Touchpoint],
    config: &TouchpointsConfig,
    trace: Option<&TraceContext>,
) -> QueryResult<Written> {
    if touches.is_empty() {
        return Ok(Written::default());
    }
    identity::lock_shared(conn)?;
    let inserted = store::insert(conn, touches)?;
    let stitched: HashMap<Uuid, Option<Uuid>> = inserted.iter().copied().collect();
    // A touch repeated within one request is stored, and published, once.
    let mut seen = HashSet::with_capacity(inserted.len());
    let payloads: Vec<TouchpointRecorded> = touches
        .iter()
        .filter_map(|t| {
            let t = t.get();
            let lead_id = *stitched.get(&t.touchpoint_id)?;
            seen.insert(t.touchpoint_id).then(|| TouchpointRecorded {
                lead_id,
                ..t.clone()
            })
        })
        .collect();
    let micro: Vec<&TouchpointRecorded> = payloads
        .iter()
        .filter(|t| config.micro_conversion_types.contains(&t.touch_type))
        .collect();
    conversions::record_micro(conn, &micro)?;
    platform::bus::outbox::enqueue_batch(conn, &payloads, config.ingest.events_per_message, trace)?;
    Ok(Written {
        inserted,
        duplicates: touches.len() - payloads.len(),
    })
}

/// Records `touches` in the caller's transaction (an idempotent request's, see
/// `platform::http::idempotency::run`) and, for a single touch, reads it back as stored
/// (stitched, or as it already was when its id was known).
pub fn record_in_tx(
    conn: &mut PgConnection,
    touches: &[Touchpoint],
    config: &TouchpointsConfig,
    trace: &TraceContext,
) -> Result<(Written, Option<Touchpoint>), TouchpointsError> {
    let written = record_in(conn, touches, config, Some(trace))?;
    let stored = match touches {
        [one] => {
            let id = one.get().touchpoint_id;
            let stored = store::find(conn, id)?
                .ok_or_else(|| anyhow::anyhow!("touchpoint {id} vanished after insert"))?;
            Some(stored)
        }
        _ => None,
    };
    Ok((written, stored))
}

/// The stored touchpoint `id`, if any.
pub async fn find(db: &Db, id: Uuid) -> Result<Option<Touchpoint>, TouchpointsError> {
    db.run(move |conn| store::find(conn, id).map_err(TouchpointsError::from))
        .await
}

/// Up to `limit` touches matching `filter` after the id `after`, in id order.
pub async fn list(
    db: &Db,
    filter: TouchpointFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Touchpoint>, TouchpointsError> {
    db.run(move |conn| store::list(conn, &filter, after, limit).map_err(TouchpointsError::from))
        .await
}

/// Whether an import keyed `key` has already answered (its response is stored for replay).
pub async fn import_answered(db: &Db, scope: &str, key: &str) -> Result<bool, TouchpointsError> {
    let (scope, key) = (scope.to_string(), key.to_string());
    db.run(move |conn| {
        platform::http::idempotency::answered(conn, &scope, &key).map_err(TouchpointsError::from)
    })
    .await
}
