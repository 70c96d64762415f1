//! The append-only transition log of a deal and its projections. The log is the source of
//! truth; the current stage, time in stage and cycle time are a fold over it in `at` order,
//! so a backdated move changes the projections exactly as a full replay would.

use chrono::{DateTime, Duration, Utc};
use contracts::funnel::ProductLine;
use contracts::money::Currency;
use rust_decimal::Decimal;

use super::funnel::{FunnelDef, LOST};

/// Where a move came from. Imports are history for analysis: they publish nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Api,
    Import,
    LeadEvent,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::Import => "import",
            Origin::LeadEvent => "lead_event",
        }
    }

    /// Whether what this origin records is announced as events.
    pub fn publishes(self) -> bool {
        self != Origin::Import
    }
}

/// A requested stage move.
#[derive(Debug, Clone)]
pub struct Move {
    pub to_stage: String,
    pub at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Sets the deal's value as it closes.
    pub amount: Option<(Decimal, Currency)>,
    pub products: Vec<ProductLine>,
}

impl Move {
    /// A move to `stage` at `at` that carries no value (imports and lead events).
    pub fn to(stage: String, at: DateTime<Utc>, reason: Option<String>) -> Move {
        Move {
            to_stage: stage,
            at: Some(at),
            reason,
            amount: None,
            products: Vec::new(),
        }
    }
}

/// One recorded move. `seq` is the recording order; `at` is when it took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i32,
    pub to_stage: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Won,
    Lost,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Won => "won",
            Status::Lost => "lost",
        }
    }

    /// The status `as_str` wrote; anything else reads as open.
    pub fn parse(s: &str) -> Status {
        match s {
            "won" => Status::Won,
            "lost" => Status::Lost,
            _ => Status::Open,
        }
    }
}

/// What the deal row caches about its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    pub stage: String,
    pub stage_entered_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub close_reason: Option<String>,
    pub transition_count: i32,
}

impl Projection {
    /// Time in the current stage at `now` (zero once closed: the clock stops).
    pub fn time_in_stage(&self, now: DateTime<Utc>) -> Duration {
        match self.closed_at {
            Some(_) => Duration::zero(),
            None => now - self.stage_entered_at,
        }
    }

    /// Open to close, or open to `now` while the deal is open.
    pub fn cycle_time(&self, now: DateTime<Utc>) -> Duration {
        self.closed_at.unwrap_or(now) - self.opened_at
    }
}

/// Entries in effect order: by `at`, then by recording order.
pub fn in_effect_order(entries: &mut [Entry]) {
    entries.sort_by(|a, b| a.at.cmp(&b.at).then(a.seq.cmp(&b.seq)));
}

/// Folds a deal's whole log. `None` for an empty log.
pub fn replay(def: &FunnelDef, entries: &[Entry]) -> Option<Projection> {
    let mut sorted = entries.to_vec();
    in_effect_order(&mut sorted);
    let first = sorted.first()?;
    let last = sorted.last()?;
    let status = status_after(def, &last.to_stage);
    let closed = status != Status::Open;
    Some(Projection {
        stage: last.to_stage.clone(),
        stage_entered_at: last.at,
        opened_at: first.at,
        closed_at: closed.then_some(last.at),
        status,
        close_reason: if closed { last.reason.clone() } else { None },
        transition_count: sorted.len() as i32,
    })
}

/// The projection after appending `e` to a log whose projection is `p`, when `e` takes
/// effect last (its `at` is not before `p.stage_entered_at`, the time of the move in effect
/// last, and it is recorded after every other move): equal to [`replay`] of the whole log
/// with `e`, without reading the log.
pub fn append_last(def: &FunnelDef, p: &Projection, e: &Entry) -> Projection {
    let status = status_after(def, &e.to_stage);
    let closed = status != Status::Open;
    Projection {
        stage: e.to_stage.clone(),
        stage_entered_at: e.at,
        opened_at: p.opened_at.min(e.at),
        closed_at: closed.then_some(e.at),
        status,
        close_reason: if closed { e.reason.clone() } else { None },
        transition_count: p.transition_count + 1,
    }
}

/// The move in effect last in a log whose projection is `p`, as far as checking a move
/// that takes effect after it needs: its stage and time.
pub fn last_in_effect(p: &Projection) -> Entry {
    Entry {
        seq: p.transition_count,
        to_stage: p.stage.clone(),
        at: p.stage_entered_at,
        reason: p.close_reason.clone(),
    }
}

fn status_after(def: &FunnelDef, stage: &str) -> Status {
    if stage == LOST {
        Status::Lost
    } else if stage == def.won_stage() {
        Status::Won
    } else {
        Status::Open
    }
}

/// The stage in effect at `at`: a move recorded now at the same instant as an older one
/// takes effect after it.
pub fn stage_at(entries: &[Entry], at: DateTime<Utc>) -> Option<&Entry> {
    entries
        .iter()
        .filter(|e| e.at <= at)
        .max_by(|a, b| a.at.cmp(&b.at).then(a.seq.cmp(&b.seq)))
}

/// Why a move cannot be appended to a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("'{0}' is not a stage of this funnel (nor 'lost')")]
    UnknownStage(String),
    #[error("is in the future")]
    InFuture,
    #[error("is before the deal was opened at {0}")]
    BeforeOpen(DateTime<Utc>),
    #[error("the deal is {stage} at that time, and {stage} is terminal")]
    FromTerminal { stage: String },
    #[error("the deal is already in {0} at that time")]
    SameStage(String),
    #[error("the log has moves after that time; {0} must be the deal's last move")]
    TerminalNotLast(String),
    #[error("a move to lost needs a reason")]
    ReasonRequired,
    #[error("a deal needs an amount and a currency to be won: send them with this move")]
    ValueRequired,
}

/// A move checked against the log: the stage it leaves, and whether it backdates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMove {
    pub from_stage: Option<String>,
    pub backdated: bool,
}

/// Checks that moving to `to` at `at` keeps the log meaningful: a known stage, not in the
/// future, not out of a terminal stage, and a terminal stage only as the last move in time.
/// `allow_before_open` admits history older than the deal's first move (imports).
pub fn check_move(
    def: &FunnelDef,
    entries: &[Entry],
    to: &str,
    at: DateTime<Utc>,
    reason: Option<&str>,
    now: DateTime<Utc>,
    allow_before_open: bool,
) -> Result<CheckedMove, MoveError> {
    if !def.knows(to) {
        return Err(MoveError::UnknownStage(to.to_string()));
    }
    // A little clock skew between a client and us is not "the future".
    if at > now + Duration::seconds(5) {
        return Err(MoveError::InFuture);
    }
    if to == LOST && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(MoveError::ReasonRequired);
    }
    let prev = stage_at(entries, at);
    match prev {
        None => {
            if let Some(first) = entries.iter().map(|e| e.at).min()
                && !allow_before_open
            {
                return Err(MoveError::BeforeOpen(first));
            }
        }
        Some(p) if def.is_terminal(&p.to_stage) => {
            return Err(MoveError::FromTerminal {
                stage: p.to_stage.clone(),
            });
        }
        Some(p) if p.to_stage == to => return Err(MoveError::SameStage(to.to_string())),
        Some(_) => {}
    }
    let later = entries.iter().any(|e| e.at > at);
    if def.is_terminal(to) && later {
        return Err(MoveError::TerminalNotLast(to.to_string()));
    }
    Ok(CheckedMove {
        from_stage: prev.map(|p| p.to_stage.clone()),
        backdated: later,
    })
}

/// Winning needs the deal's value (`valued`), except in imported history.
pub fn check_value(
    def: &FunnelDef,
    to: &str,
    origin: Origin,
    valued: bool,
) -> Result<(), MoveError> {
    if to == def.won_stage() && origin != Origin::Import && !valued {
        return Err(MoveError::ValueRequired);
    }
    Ok(())
}

/// Whether a lead event may move a deal to stage `target` at `at`. Lead events only
/// advance: a deal already at or past the target at that time stays; and they never close
/// a deal (winning needs an amount, losing a reason), nor move one closed at that time.
pub fn lead_advances(def: &FunnelDef, entries: &[Entry], target: usize, at: DateTime<Utc>) -> bool {
    if def.is_terminal(&def.stages[target].name) {
        return false;
    }
    let Some(current) = stage_at(entries, at) else {
        return false;
    };
    !def.is_terminal(&current.to_stage)
        && def
            .index_of(&current.to_stage)
            .is_none_or(|here| here < target)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::funnel::{FunnelInput, StageInput};

    fn def() -> FunnelDef {
        let stage = |n: &str| StageInput {
            name: Some(n.into()),
            ..Default::default()
        };
        FunnelDef::parse(FunnelInput {
            name: Some("b2b".into()),
            stages: Some(["lead", "mql", "sql", "won"].map(stage).to_vec()),
            open_on_lead_created: None,
        })
        .unwrap()
    }

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap()
    }

    fn e(seq: i32, to: &str, day: u32) -> Entry {
        Entry {
            seq,
            to_stage: to.into(),
            at: t(day),
            reason: None,
        }
    }

    #[test]
    fn backdated_move_lands_in_time_order() {
        let d = def();
        let mut log = vec![e(1, "lead", 1), e(2, "sql", 10)];
        let m = check_move(&d, &log, "mql", t(5), None, t(20), false).unwrap();
        assert_eq!(m.from_stage.as_deref(), Some("lead"));
        assert!(m.backdated);
        log.push(e(3, "mql", 5));
        let p = replay(&d, &log).unwrap();
        assert_eq!(p.stage, "sql");
        assert_eq!(p.stage_entered_at, t(10));
        assert_eq!(p.opened_at, t(1));
        assert_eq!(p.status, Status::Open);
        assert_eq!(p.time_in_stage(t(12)), Duration::days(2));
        assert_eq!(p.cycle_time(t(12)), Duration::days(11));
    }

    #[test]
    fn terminal_rules() {
        let d = def();
        let log = vec![e(1, "lead", 1), e(2, "won", 10)];
        assert_eq!(
            check_move(&d, &log, "mql", t(11), None, t(20), false),
            Err(MoveError::FromTerminal {
                stage: "won".into()
            })
        );
        // Before the win, history may still be filled in.
        assert!(check_move(&d, &log, "mql", t(5), None, t(20), false).is_ok());
        let open = vec![e(1, "lead", 1), e(2, "mql", 10)];
        let refused = [
            (
                "lost",
                t(5),
                Some("price"),
                MoveError::TerminalNotLast("lost".into()),
            ),
            ("lost", t(11), None, MoveError::ReasonRequired),
            ("nope", t(11), None, MoveError::UnknownStage("nope".into())),
            ("sql", t(25), None, MoveError::InFuture),
            ("mql", t(12), None, MoveError::SameStage("mql".into())),
        ];
        for (to, at, reason, error) in refused {
            assert_eq!(
                check_move(&d, &open, to, at, reason, t(20), false),
                Err(error),
                "{to} at {at}"
            );
        }
        assert!(matches!(
            check_move(
                &d,
                &open,
                "sql",
                t(1) - Duration::hours(1),
                None,
                t(20),
                false
            ),
            Err(MoveError::BeforeOpen(_))
        ));
        let p = replay(&d, &[e(1, "lead", 1), e(2, "lost", 3)]).unwrap();
        assert_eq!(p.status, Status::Lost);
        assert_eq!(p.closed_at, Some(t(3)));
        assert_eq!(p.time_in_stage(t(9)), Duration::zero());
    }

    #[test]
    fn winning_needs_a_value_except_in_imports() {
        let d = def();
        assert_eq!(
            check_value(&d, "won", Origin::Api, false),
            Err(MoveError::ValueRequired)
        );
        assert!(check_value(&d, "won", Origin::Import, false).is_ok());
        assert!(check_value(&d, "won", Origin::LeadEvent, true).is_ok());
        assert!(check_value(&d, "sql", Origin::Api, false).is_ok());
    }

    #[test]
    fn lead_events_only_advance_open_deals() {
        let d = def();
        let log = vec![e(1, "lead", 1), e(2, "sql", 10)];
        // mql (1) at day 5, while in lead: forward.
        assert!(lead_advances(&d, &log, 1, t(5)));
        // mql at day 11, while in sql: backwards.
        assert!(!lead_advances(&d, &log, 1, t(11)));
        // Before the deal opened, or to the winning stage: never.
        assert!(!lead_advances(&d, &[e(1, "lead", 2)], 1, t(1)));
        assert!(!lead_advances(&d, &log, 3, t(11)));
        let closed = vec![e(1, "lead", 1), e(2, "lost", 3)];
        assert!(!lead_advances(&d, &closed, 2, t(4)));
    }

    #[test]
    fn appending_the_last_move_equals_a_replay() {
        let d = def();
        let log = vec![e(1, "lead", 1), e(2, "sql", 10), e(3, "mql", 5)];
        let p = replay(&d, &log).unwrap();
        assert_eq!(last_in_effect(&p).to_stage, "sql");
        for next in [e(4, "mql", 10), e(4, "won", 12), e(4, "lead", 20)] {
            assert!(
                check_move(
                    &d,
                    &[last_in_effect(&p)],
                    &next.to_stage,
                    next.at,
                    None,
                    t(25),
                    true
                )
                .is_ok()
            );
            let mut all = log.clone();
            all.push(next.clone());
            assert_eq!(
                append_last(&d, &p, &next),
                replay(&d, &all).unwrap(),
                "{next:?}"
            );
        }
        let lost = Entry {
            reason: Some("price".into()),
            ..e(4, "lost", 11)
        };
        let mut all = log.clone();
        all.push(lost.clone());
        assert_eq!(append_last(&d, &p, &lost), replay(&d, &all).unwrap());
    }

    #[test]
    fn same_instant_moves_follow_recording_order() {
        let d = def();
        let log = vec![e(1, "lead", 1), e(2, "mql", 5), e(3, "sql", 5)];
        assert_eq!(replay(&d, &log).unwrap().stage, "sql");
        assert_eq!(stage_at(&log, t(5)).unwrap().seq, 3);
    }
}
