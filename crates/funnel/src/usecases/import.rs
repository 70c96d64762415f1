//! History import: lines of stage history applied one by one, each in its own savepoint, so
//! that a bad line rolls back alone. A line naming an unknown external id opens an imported
//! deal. Imports are history for analysis: they publish no events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use platform::Db;
use platform::validation::Invalid;
use uuid::Uuid;

use super::{deals, transaction};
use crate::domain::deal::{DealInput, NewDeal};
use crate::domain::log::{Move, Origin};
use crate::error::FunnelError;
use crate::store::deals as store;

/// Lines applied per transaction. Each line is a savepoint, and PostgreSQL handles at most
/// 64 subtransactions per transaction in shared memory; beyond that every snapshot check
/// falls back to `pg_subtrans` and the import slows down as it grows.
pub const CHUNK: usize = 50;

/// One line of history: a deal (by id, or by external id, which opens the deal when it is
/// new) entering a stage at a time.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub deal_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub stage: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// `owner` and `campaign` also set the opened deal's owner and campaign.
    pub attributes: BTreeMap<String, String>,
}

/// What became of one numbered line: whether it opened a deal, or why it was refused.
pub type Outcome = (u64, Result<bool, FunnelError>);

/// Applies numbered lines to a funnel's deals in one transaction. A refused line is an
/// outcome; an unexpected error is the answer.
pub async fn apply(
    db: &Db,
    funnel_id: Uuid,
    lines: Vec<(u64, HistoryLine)>,
) -> Result<Vec<Outcome>, FunnelError> {
    let mut outcomes = transaction(db, move |tx| {
        let mut out = Vec::with_capacity(lines.len());
        for (n, line) in lines {
            // A savepoint per line: a bad line rolls back alone.
            let r = tx.transaction(|sp| apply_line(sp, funnel_id, line));
            out.push((n, r));
        }
        Ok(out)
    })
    .await?;
    match outcomes
        .iter()
        .position(|(_, r)| matches!(r, Err(FunnelError::Unexpected(_))))
    {
        Some(i) => Err(outcomes.swap_remove(i).1.unwrap_err()),
        None => Ok(outcomes),
    }
}

/// Applies one line; true when it opened a deal.
fn apply_line(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    line: HistoryLine,
) -> Result<bool, FunnelError> {
    let existing = match (line.deal_id, &line.external_id) {
        (Some(id), _) => {
            let d = store::find(conn, id)?.ok_or(FunnelError::DealNotFound(id))?;
            if d.funnel_id != funnel_id {
                return Err(Invalid::field("deal_id", "belongs to another funnel").into());
            }
            Some(d)
        }
        (None, Some(x)) => store::find_external(conn, funnel_id, x)?,
        (None, None) => None,
    };
    match existing {
        Some(d) => {
            let m = Move::to(line.stage, line.at, line.reason);
            deals::transition(conn, d.id, &m, Origin::Import, None)?;
            Ok(false)
        }
        None => {
            let deal = NewDeal::parse(DealInput {
                funnel_id: Some(funnel_id),
                external_id: line.external_id,
                stage: Some(line.stage),
                opened_at: Some(line.at),
                owner: line.attributes.get("owner").cloned(),
                campaign_id: line.attributes.get("campaign").cloned(),
                attributes: Some(line.attributes),
                ..Default::default()
            })?;
            deals::create(conn, &deal, Origin::Import, None)?;
            Ok(true)
        }
    }
}
