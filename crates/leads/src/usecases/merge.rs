//! Merging a duplicate lead into its survivor.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use platform::TraceContext;
use platform::bus::outbox;
use platform::validation::Invalid;
use uuid::Uuid;

use super::live;
use super::{now, scoring};
use crate::error::LeadsError;
use crate::store::{self, LeadRow};

/// Merges `from_id` into `survivor_id`: its lifecycle and score history and its engagement
/// move to the survivor, empty fields of the survivor are filled from it, it becomes a
/// redirect, and `lead.merged` is published.
pub fn merge(
    conn: &mut PgConnection,
    survivor_id: Uuid,
    from_id: Uuid,
    trace: &TraceContext,
) -> Result<LeadRow, LeadsError> {
    if survivor_id == from_id {
        return Err(Invalid::field("from_id", "must name another lead").into());
    }
    conn.transaction(|tx| {
        let (survivor, merged) = lock_pair(tx, survivor_id, from_id)?;
        let now = now();
        store::merge::move_records(tx, from_id, survivor_id)?;
        let model = scoring::current_model(tx)?;
        let hl = model.1.half_life_days;
        let prior = scoring::scores_now(&survivor, &model.1, now);
        let engagement = survivor
            .engagement()
            .add(merged.engagement().value_at(now, hl), now, hl);
        let mut profile = survivor.profile();
        profile.absorb(&merged.profile());
        let mut row = survivor.clone();
        row.set_profile(&profile);
        row.mql_at = earliest(survivor.mql_at, merged.mql_at);
        row.sql_at = earliest(survivor.sql_at, merged.sql_at);
        row.customer_at = earliest(survivor.customer_at, merged.customer_at);
        row.engagement = engagement.value;
        row.engagement_as_of = Some(engagement.as_of);
        row.version += 1;
        row.updated_at = now;
        store::leads::save(tx, &row)?;
        store::leads::mark_merged(tx, &merged, survivor_id, now)?;
        let event = contracts::leads::LeadMerged {
            lead_id: survivor_id,
            merged_lead_id: from_id,
            merged_email: merged.email.clone(),
            merged_anonymous_id: merged.anonymous_id.clone(),
            merged_at: now,
        };
        outbox::enqueue(tx, &event, Some(trace))?;
        scoring::rescore(tx, &model, row, Some(prior), "merged", now, Some(trace))
    })
}

/// Locks both leads, in id order so that two opposite merges cannot deadlock. The survivor
/// must be live; a duplicate that is missing or already merged is a bad `from_id`.
fn lock_pair(
    conn: &mut PgConnection,
    survivor_id: Uuid,
    from_id: Uuid,
) -> Result<(LeadRow, LeadRow), LeadsError> {
    let (first, second) = if survivor_id < from_id {
        (survivor_id, from_id)
    } else {
        (from_id, survivor_id)
    };
    let a = store::leads::lock(conn, first)?;
    let b = store::leads::lock(conn, second)?;
    let (survivor, merged) = if first == survivor_id { (a, b) } else { (b, a) };
    let survivor = live::live(survivor, survivor_id)?;
    match merged {
        None => Err(Invalid::field("from_id", "does not name an existing lead").into()),
        Some(m) if m.merged_into.is_some() => {
            Err(Invalid::field("from_id", "was already merged").into())
        }
        Some(m) => Ok((survivor, m)),
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
