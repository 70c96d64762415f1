//! A history import large enough that a per-line replay of a deal's log would show: 20,000
//! stage events over 200 deals (100 per deal, some backdated), applied in set-based batches
//! with a bounded number of statements per transaction, and projections equal to a replay.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, Once};

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

use crate::helpers::*;

const DEALS: usize = 200;
const EVENTS: usize = 100;
/// Statements one import transaction may run, however many lines it applies: a handful of
/// set-based reads and writes. A per-line replay runs several per line.
const MAX_STATEMENTS: usize = 20;

/// Statement counts of the committed transactions that wrote to the transition log, from
/// every connection opened after [`count_statements`] (other tests' transactions included:
/// theirs are single moves, well under the bound).
static LOG_WRITES: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Counts the statements of each top-level transaction of one connection.
#[derive(Default)]
struct StatementCounter {
    statements: usize,
    writes_log: bool,
}

/// The first bytes of a query's text; formatting stops there.
struct Head(String);

impl std::fmt::Write for Head {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = 64usize.saturating_sub(self.0.len());
        self.0.extend(s.chars().take(room));
        if self.0.len() >= 64 {
            Err(std::fmt::Error)
        } else {
            Ok(())
        }
    }
}

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { depth, .. } if depth.get() == 1 => {
                self.statements = 0;
                self.writes_log = false;
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                self.statements += 1;
                let mut head = Head(String::new());
                let _ = write!(head, "{query}");
                self.writes_log |= head.0.starts_with("INSERT INTO \"transitions\"");
            }
            InstrumentationEvent::CommitTransaction { depth, .. }
                if depth.get() == 1 && self.writes_log =>
            {
                LOG_WRITES.lock().unwrap().push(self.statements);
            }
            _ => {}
        }
    }
}

/// Instruments every connection opened from now on.
fn count_statements() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        set_default_instrumentation(|| Some(Box::new(StatementCounter::default()))).unwrap();
    });
}

const CYCLE: [&str; 4] = ["lead", "mql", "sql", "opportunity"];

/// Deal `d`'s move `j`: its stage and time. Every third deal ends won, every third lost.
fn event(d: usize, j: usize) -> (&'static str, DateTime<Utc>) {
    let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
        + Duration::minutes(d as i64)
        + Duration::hours(j as i64);
    let stage = match (j, d % 3) {
        (j, 0) if j == EVENTS - 1 => "won",
        (j, 1) if j == EVENTS - 1 => "lost",
        _ => CYCLE[j % 4],
    };
    (stage, at)
}

/// The order in which deal `d`'s moves are sent: the opening move first, then in time
/// order except that some pairs come later-first, so that one of the two is backdated.
fn sent_order(d: usize) -> Vec<usize> {
    let mut order = vec![0, 1];
    for k in 1..EVENTS / 2 {
        let (a, b) = (2 * k, 2 * k + 1);
        if (d + k).is_multiple_of(5) {
            order.extend([b, a]);
        } else {
            order.extend([a, b]);
        }
    }
    order
}

fn line(d: usize, stage: &str, at: DateTime<Utc>) -> String {
    let reason = if stage == "lost" {
        r#","reason":"price""#
    } else {
        ""
    };
    format!(
        r#"{{"external_id":"s-{d}","stage":"{stage}","at":"{}"{reason}}}"#,
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_runs_in_bounded_batches_and_equals_a_replay() {
    count_statements();
    let app = spawn_app().await;
    let mut lines: Vec<String> = Vec::new();
    let mut refused: Vec<usize> = Vec::new();
    let orders: Vec<Vec<usize>> = (0..DEALS).map(sent_order).collect();
    for slot in 0..EVENTS {
        for (d, order) in orders.iter().enumerate() {
            let (stage, at) = event(d, order[slot]);
            lines.push(line(d, stage, at));
        }
        if slot == 10 {
            lines.push("not json".into());
            refused.push(lines.len());
        }
    }
    // A move out of a closed deal is refused, with its line number.
    for d in (0..DEALS).filter(|d| d % 3 != 2) {
        let (_, at) = event(d, EVENTS);
        lines.push(line(d, "mql", at));
        refused.push(lines.len());
    }
    let body = lines.join("\n").into_bytes();

    let started = std::time::Instant::now();
    let r = app.import(B2B, body).await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} lines in {secs:.2} s ({:.0} lines/s)",
        lines.len(),
        lines.len() as f64 / secs
    );
    assert_eq!(r["accepted"], DEALS * EVENTS, "{r}");
    assert_eq!(r["deals_created"], DEALS);
    assert_eq!(r["rejected"], refused.len());
    let numbered: Vec<usize> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(numbered, refused);
    assert!(
        r["errors"][1]["error"]
            .as_str()
            .unwrap()
            .contains("terminal")
    );

    let counts = LOG_WRITES.lock().unwrap().clone();
    let most = counts.iter().copied().max().unwrap_or(0);
    println!(
        "{} transactions wrote the log, at most {most} statements each",
        counts.len()
    );
    assert!(
        most <= MAX_STATEMENTS,
        "a transaction writing the log ran {most} statements (> {MAX_STATEMENTS})"
    );

    // The projections on the rows equal a full replay, by the service's own fold...
    assert_eq!(rebuild(&app).await, 0);
    // ...and by an independent one over the generated history.
    let page = app
        .get_json(&format!("/v1/deals?funnel_id={B2B}&limit=500"))
        .await;
    let deals: HashMap<&str, &serde_json::Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["external_id"].as_str().unwrap(), d))
        .collect();
    assert_eq!(deals.len(), DEALS);
    for d in 0..DEALS {
        let deal = deals[format!("s-{d}").as_str()];
        let (stage, last) = event(d, EVENTS - 1);
        let (_, first) = event(d, 0);
        let time = |k: &str| {
            deal[k]
                .as_str()
                .map(|s| s.parse::<DateTime<Utc>>().unwrap())
        };
        assert_eq!(deal["stage"], stage, "s-{d}");
        assert_eq!(time("stage_entered_at"), Some(last), "s-{d}");
        assert_eq!(time("opened_at"), Some(first), "s-{d}");
        let closed = (d % 3 != 2).then_some(last);
        assert_eq!(time("closed_at"), closed, "s-{d}");
        assert_eq!(deal["transition_count"], EVENTS, "s-{d}");
    }
}
