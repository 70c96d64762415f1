//! Identity stitching driven by the leads service's events, in the consumer's transaction.

use contracts::leads::{LeadCreated, LeadMerged};
use diesel::prelude::*;

use crate::store::identity;

/// A lead appeared: its identities join the map and the anonymous touches carrying them are
/// tied to it. Returns how many touches were stitched.
pub fn lead_created(conn: &mut PgConnection, l: &LeadCreated) -> QueryResult<usize> {
    identity::lock(conn)?;
    identity::lead_created(
        conn,
        l.lead_id,
        Some(l.email.as_str()),
        l.anonymous_id.as_deref(),
    )
}

/// A lead was merged into another: everything of the merged lead moves to the survivor.
pub fn lead_merged(conn: &mut PgConnection, m: &LeadMerged) -> QueryResult<()> {
    identity::lock(conn)?;
    identity::lead_merged(
        conn,
        m.lead_id,
        m.merged_lead_id,
        Some(m.merged_email.as_str()),
        m.merged_anonymous_id.as_deref(),
        m.merged_at,
    )
}
