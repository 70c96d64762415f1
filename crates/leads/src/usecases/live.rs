//! Reading a lead that is still live: a missing one is `NotFound`, one merged away is
//! `Merged`. Every use case that acts on one lead starts here.

use diesel::PgConnection;
use uuid::Uuid;

use crate::error::LeadsError;
use crate::store::{self, LeadRow};

/// A live lead from a read: a missing one is `NotFound`, a merged one `Merged` (the API
/// answers 308 to the survivor).
pub(crate) fn live(row: Option<LeadRow>, id: Uuid) -> Result<LeadRow, LeadsError> {
    let row = row.ok_or(LeadsError::NotFound(id))?;
    match row.merged_into {
        Some(survivor) => Err(LeadsError::Merged { id, survivor }),
        None => Ok(row),
    }
}

/// A live lead.
pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<LeadRow, LeadsError> {
    live(store::leads::find(conn, id)?, id)
}

/// A live lead, locked for the rest of the transaction.
pub(crate) fn lock(conn: &mut PgConnection, id: Uuid) -> Result<LeadRow, LeadsError> {
    live(store::leads::lock(conn, id)?, id)
}
