//! Setting and reading an affiliate's terms.

use chrono::Utc;
use diesel::Connection;
use platform::Db;

use crate::domain::affiliate::{AffiliateDraft, AffiliateTerms};
use crate::error::TouchpointsError;
use crate::store::affiliates::{self as store, AffiliateRow};

/// Checks and stores the terms of affiliate `id`, replacing any; returns them as stored and
/// whether the affiliate is new.
pub async fn put(
    db: &Db,
    id: String,
    draft: AffiliateDraft,
) -> Result<(AffiliateRow, bool), TouchpointsError> {
    let terms = AffiliateTerms::parse(draft)?;
    let row = AffiliateRow::new(&id, &terms, Utc::now());
    let stored = row.clone();
    let created = db
        .run(move |conn| {
            conn.transaction(|tx| store::put(tx, &stored))
                .map_err(TouchpointsError::from)
        })
        .await?;
    Ok((row, created))
}

pub async fn get(db: &Db, id: String) -> Result<AffiliateRow, TouchpointsError> {
    let lookup = id.clone();
    db.run(move |conn| store::get(conn, &lookup).map_err(TouchpointsError::from))
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("affiliate {id}")))
}
