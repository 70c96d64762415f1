//! History import in set-based batches. A batch of lines is one transaction: it reads the
//! deals its lines name in a few statements, checks every line in order in memory (a
//! refused line changes nothing, so it needs no savepoint), then writes the opened deals and
//! the new moves with multi-row inserts and the changed projections with one update.
//!
//! A deal whose lines in the batch all take effect after its last move (history imported in
//! time order: the common case) is checked and folded from the projection on its row, so its
//! cost does not grow with its log. A deal with a backdated line has its whole log read (one
//! statement for all such deals) and replayed once per batch. A line naming an unknown
//! external id opens an imported deal. Imports are history for analysis: they publish no
//! events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use platform::Db;
use platform::validation::Invalid;
use uuid::Uuid;

use super::transaction;
use crate::domain::deal::{DealInput, NewDeal, OpenError};
use crate::domain::funnel::FunnelDef;
use crate::domain::log::{self, Entry, Origin, Projection};
use crate::error::FunnelError;
use crate::store::deals::{self as store, DealRow, TransitionRow};
use crate::store::funnels::{self, Funnel};

/// Lines applied per transaction. A batch costs a bounded number of statements whatever
/// its size; the bound here is the memory the parsed lines of a batch may hold.
pub const CHUNK: usize = 500;

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
/// outcome; an unexpected error is the answer (and the batch is rolled back).
pub async fn apply(
    db: &Db,
    funnel_id: Uuid,
    lines: Vec<(u64, HistoryLine)>,
) -> Result<Vec<Outcome>, FunnelError> {
    transaction(db, move |tx| apply_in(tx, funnel_id, lines)).await
}

/// The same in the caller's transaction (an import under an `Idempotency-Key` is one
/// transaction from its first line to its recorded answer).
pub fn apply_in(
    conn: &mut PgConnection,
    funnel_id: Uuid,
    lines: Vec<(u64, HistoryLine)>,
) -> Result<Vec<Outcome>, FunnelError> {
    let mut batch = Batch::load(conn, funnel_id, &lines)?;
    let mut out = Vec::with_capacity(lines.len());
    for (n, line) in lines {
        let r = batch.apply_line(conn, line);
        if let Err(e @ FunnelError::Unexpected(_)) = r {
            return Err(e);
        }
        out.push((n, r));
    }
    batch.write(conn)?;
    Ok(out)
}

/// What a batch knows of a deal's log.
enum History {
    /// The whole log (deals opened in the batch, or with a backdated line).
    Log(Vec<Entry>),
    /// Only the projection: every line of the deal in the batch takes effect last.
    Tail(Projection),
}

/// A deal a batch moves or opens: its row, its history so far, and the stages it is
/// checked against.
struct Touched {
    row: DealRow,
    def: Option<Arc<FunnelDef>>,
    history: History,
    /// The next move's `seq`: the log's length plus one (moves are numbered 1, 2, ... and
    /// never deleted, and the row's `transition_count` is the log's length).
    next_seq: i32,
    opened: bool,
    moved: bool,
}

/// The state of one batch: the deals its lines name, as read at its start and changed by
/// its accepted lines, and the moves to append.
struct Batch {
    funnel_id: Uuid,
    now: DateTime<Utc>,
    /// The funnel at its current version, read when a line first opens a deal.
    funnel: Option<Option<Funnel>>,
    deals: HashMap<Uuid, Touched>,
    /// Deals named by id that belong to another funnel.
    foreign: HashSet<Uuid>,
    by_external: HashMap<String, Uuid>,
    appended: Vec<TransitionRow>,
}

impl Batch {
    /// Reads, and locks, the deals the lines name, and the logs of those a line backdates.
    fn load(
        conn: &mut PgConnection,
        funnel_id: Uuid,
        lines: &[(u64, HistoryLine)],
    ) -> Result<Batch, FunnelError> {
        let mut ids: Vec<Uuid> = lines.iter().filter_map(|(_, l)| l.deal_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut externals: Vec<String> = lines
            .iter()
            .filter(|(_, l)| l.deal_id.is_none())
            .filter_map(|(_, l)| l.external_id.clone())
            .collect();
        externals.sort_unstable();
        externals.dedup();
        let mut rows = store::find_many_for_update(conn, &ids)?;
        rows.extend(store::find_external_many_for_update(
            conn, funnel_id, &externals,
        )?);
        let mut batch = Batch {
            funnel_id,
            now: platform::time::now(),
            funnel: None,
            deals: HashMap::new(),
            foreign: HashSet::new(),
            by_external: HashMap::new(),
            appended: Vec::new(),
        };
        for row in rows {
            if row.funnel_id != funnel_id {
                batch.foreign.insert(row.id);
                continue;
            }
            if batch.deals.contains_key(&row.id) {
                continue;
            }
            if let Some(x) = &row.external_id {
                batch.by_external.insert(x.clone(), row.id);
            }
            let def = funnels::version_def(conn, row.funnel_id, row.funnel_version)?;
            batch.deals.insert(
                row.id,
                Touched {
                    def,
                    history: History::Tail(row.projection()),
                    next_seq: row.transition_count + 1,
                    opened: false,
                    moved: false,
                    row,
                },
            );
        }
        let backdated = batch.backdated(lines);
        if !backdated.is_empty() {
            let mut logs: HashMap<Uuid, Vec<Entry>> = HashMap::new();
            for t in store::logs_of(conn, &backdated)? {
                logs.entry(t.deal_id).or_default().push(t.entry());
            }
            for id in backdated {
                if let Some(d) = batch.deals.get_mut(&id) {
                    let mut entries = logs.remove(&id).unwrap_or_default();
                    entries.sort_by_key(|e| e.seq);
                    d.next_seq = entries.last().map_or(1, |e| e.seq + 1);
                    d.history = History::Log(entries);
                }
            }
        }
        Ok(batch)
    }

    /// The read deals that a line of the batch may move to before their last move: a line
    /// earlier than the deal's last move so far, counting every earlier line of the batch
    /// (refused ones too, which can only add deals to the list).
    fn backdated(&self, lines: &[(u64, HistoryLine)]) -> Vec<Uuid> {
        let mut last: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        let mut out = HashSet::new();
        for (_, line) in lines {
            let id = match (line.deal_id, &line.external_id) {
                (Some(id), _) => id,
                (None, Some(x)) => match self.by_external.get(x) {
                    Some(id) => *id,
                    None => continue,
                },
                (None, None) => continue,
            };
            let Some(d) = self.deals.get(&id) else {
                continue;
            };
            let end = last.entry(id).or_insert(d.row.stage_entered_at);
            if line.at < *end {
                out.insert(id);
            } else {
                *end = line.at;
            }
        }
        let mut out: Vec<Uuid> = out.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Applies one line in memory; true when it opened a deal. A refused line changes
    /// nothing.
    fn apply_line(
        &mut self,
        conn: &mut PgConnection,
        line: HistoryLine,
    ) -> Result<bool, FunnelError> {
        let existing = match (line.deal_id, &line.external_id) {
            (Some(id), _) if self.foreign.contains(&id) => {
                return Err(Invalid::field("deal_id", "belongs to another funnel").into());
            }
            (Some(id), _) if self.deals.contains_key(&id) => Some(id),
            (Some(id), _) => return Err(FunnelError::DealNotFound(id)),
            (None, Some(x)) => self.by_external.get(x).copied(),
            (None, None) => None,
        };
        match existing {
            Some(id) => self.move_deal(conn, id, line).map(|()| false),
            None => self.open(conn, line).map(|()| true),
        }
    }

    /// Checks a move against the deal's log as it stands and appends it.
    fn move_deal(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        line: HistoryLine,
    ) -> Result<(), FunnelError> {
        let now = self.now;
        let d = self
            .deals
            .get_mut(&id)
            .ok_or(FunnelError::DealNotFound(id))?;
        let def = d
            .def
            .clone()
            .ok_or(FunnelError::FunnelNotFound(d.row.funnel_id))?;
        if let History::Tail(p) = &d.history
            && line.at < p.stage_entered_at
        {
            // Not foreseen by `backdated`: read the log after all.
            let entries: Vec<Entry> = store::log_of(conn, id)?
                .iter()
                .map(TransitionRow::entry)
                .collect();
            d.next_seq = entries.last().map_or(1, |e| e.seq + 1);
            d.history = History::Log(entries);
        }
        let reason = line
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let checked = match &d.history {
            History::Log(entries) => {
                log::check_move(&def, entries, &line.stage, line.at, reason, now, true)?
            }
            History::Tail(p) => {
                let last = [log::last_in_effect(p)];
                log::check_move(&def, &last, &line.stage, line.at, reason, now, true)?
            }
        };
        let valued = d.row.amount.is_some() && d.row.currency.is_some();
        log::check_value(&def, &line.stage, Origin::Import, valued)?;
        let row = TransitionRow {
            deal_id: id,
            seq: d.next_seq,
            from_stage: checked.from_stage,
            to_stage: line.stage,
            at: line.at,
            reason: reason.map(str::to_string),
            origin: Origin::Import.as_str().to_string(),
            recorded_at: now,
        };
        d.next_seq += 1;
        match &mut d.history {
            History::Log(entries) => entries.push(row.entry()),
            History::Tail(p) => *p = log::append_last(&def, p, &row.entry()),
        }
        d.moved = true;
        self.appended.push(row);
        Ok(())
    }

    /// Opens an imported deal in the line's stage at the line's time: its log's move 1.
    fn open(&mut self, conn: &mut PgConnection, line: HistoryLine) -> Result<(), FunnelError> {
        let deal = NewDeal::parse(DealInput {
            funnel_id: Some(self.funnel_id),
            external_id: line.external_id,
            stage: Some(line.stage),
            opened_at: Some(line.at),
            owner: line.attributes.get("owner").cloned(),
            campaign_id: line.attributes.get("campaign").cloned(),
            attributes: Some(line.attributes),
            ..Default::default()
        })?;
        if self.funnel.is_none() {
            self.funnel = Some(funnels::find(conn, self.funnel_id, None)?);
        }
        let funnel = self
            .funnel
            .as_ref()
            .and_then(Option::as_ref)
            .ok_or(OpenError::NoSuchFunnel)?;
        let (stage, opened_at) = deal.opening(&funnel.def, self.now)?;
        let row = DealRow::opening(&deal, funnel.version, stage.clone(), opened_at, self.now)?;
        let first =
            TransitionRow::opening(row.id, stage, opened_at, Origin::Import.as_str(), self.now);
        if let Some(x) = &row.external_id {
            self.by_external.insert(x.clone(), row.id);
        }
        self.deals.insert(
            row.id,
            Touched {
                def: Some(Arc::new(funnel.def.clone())),
                history: History::Log(vec![first.entry()]),
                next_seq: 2,
                opened: true,
                moved: false,
                row,
            },
        );
        self.appended.push(first);
        Ok(())
    }

    /// Replays the log of each touched deal read in full once into its row (the others
    /// carry their folded projection), then writes the opened deals, the new moves and the
    /// changed projections, a statement each.
    fn write(self, conn: &mut PgConnection) -> Result<(), FunnelError> {
        let mut opened = Vec::new();
        let mut moved = Vec::new();
        for mut d in self.deals.into_values() {
            if !d.opened && !d.moved {
                continue;
            }
            match &d.history {
                History::Log(entries) => {
                    if let Some(def) = &d.def
                        && let Some(p) = log::replay(def, entries)
                    {
                        d.row.apply(&p);
                    }
                }
                History::Tail(p) => d.row.apply(p),
            }
            if d.opened {
                opened.push(d.row);
            } else {
                moved.push(d.row);
            }
        }
        opened.sort_by_key(|d| d.id);
        moved.sort_by_key(|d| d.id);
        store::insert_many(conn, &opened)?;
        store::append_many(conn, &self.appended)?;
        store::save_projections(conn, &mut moved)?;
        Ok(())
    }
}
