//! Setting and reading an affiliate's terms: a PUT creates (`If-None-Match: *`) or replaces
//! the version the client read (`If-Match`).

use diesel::Connection;
use platform::Db;

use crate::domain::affiliate::{AffiliateDraft, AffiliateTerms};
use crate::domain::precondition::{Precondition, Write, decide};
use crate::error::TouchpointsError;
use crate::store::affiliates::{self as store, AffiliateRow};

/// Checks the terms of affiliate `id` and the precondition against its current version,
/// then stores them as a new affiliate (version 1) or as the next version. Returns them as
/// stored and whether the affiliate is new.
pub async fn put(
    db: &Db,
    id: String,
    draft: AffiliateDraft,
    sent: Precondition,
) -> Result<(AffiliateRow, bool), TouchpointsError> {
    let terms = AffiliateTerms::parse(draft)?;
    db.run(move |conn| {
        conn.transaction(|tx| {
            let current = store::version_for_update(tx, &id)?;
            match decide(current, sent)? {
                Write::Create => {
                    let row = AffiliateRow::new(&id, &terms, platform::time::now(), 1);
                    if !store::insert(tx, &row)? {
                        // Created by another request since the lookup: it exists now.
                        let current = store::version_for_update(tx, &id)?.unwrap_or(1);
                        decide(Some(current), sent)?;
                    }
                    Ok((row, true))
                }
                Write::Replace { current } => {
                    let row = AffiliateRow::new(&id, &terms, platform::time::now(), current + 1);
                    store::replace(tx, &row)?;
                    Ok((row, false))
                }
            }
        })
    })
    .await
}

pub async fn get(db: &Db, id: String) -> Result<AffiliateRow, TouchpointsError> {
    let lookup = id.clone();
    db.run(move |conn| store::get(conn, &lookup).map_err(TouchpointsError::from))
        .await?
        .ok_or_else(|| TouchpointsError::NotFound(format!("affiliate {id}")))
}

/// Up to `limit` affiliates after the id `after`, in id order.
pub async fn page(
    db: &Db,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<AffiliateRow>, TouchpointsError> {
    db.run(move |conn| store::page(conn, after.as_deref(), limit).map_err(TouchpointsError::from))
        .await
}
