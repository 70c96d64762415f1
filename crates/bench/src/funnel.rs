//! The funnel service's targets: the funnel report engine over 1M deals and ~10M stage
//! events beside DuckDB running the equivalent ordered-funnel SQL on the same Parquet
//! files, the report end to end over HTTP on a smaller imported history, and
//! `POST /v1/deals/{id}/transitions` under load.

use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use funnel::domain::funnel::{FunnelDef, FunnelInput, Span};
use funnel::domain::log::Status;
use funnel::domain::matching::Order;
use funnel::reports::{DealFacts, Params, compute};
use futures::StreamExt;
use platform::testing::{RunningService, TestNamespace};
use polars::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use crate::http::{CONCURRENCY, create, load, send_ndjson};
use crate::leads::{http_row, pgbench};
use crate::peer;
use crate::report::{Row, Verdict};

pub const STAGES: [&str; 6] = ["lead", "mql", "sql", "opportunity", "proposal", "won"];
const SOURCES: [&str; 8] = [
    "organic_search",
    "paid_search",
    "webinar",
    "referral",
    "event",
    "content",
    "paid_social",
    "sdr",
];
/// The conversion window; longer than any generated deal (at most 15 gaps of 7 days), so
/// the first-match SQL and the engine's best match choose the same events (see
/// docs/benchmarks.md).
const WINDOW_DAYS: i64 = 120;
const LOSS_REASONS: [&str; 4] = ["price", "competitor", "no_budget", "timing"];

/// One generated deal: source, open time, (stage index or `None` for lost, unix seconds).
struct Deal {
    source: &'static str,
    moves: Vec<(Option<usize>, i64)>,
    amount_cents: i64,
    reason: Option<&'static str>,
}

/// Seeded deals walking the six stages: each move goes forward with probability 0.55,
/// else back one stage; 5 to 16 moves, ending at `won`, at the move budget, or (30 % of
/// the rest) in `lost`. Gaps are 1 hour to 7 days.
fn generate(deals: usize, seed: u64) -> Vec<Deal> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (0..deals)
        .map(|_| {
            let budget = rng.random_range(5..=16usize);
            let mut at = start + rng.random_range(0..365 * 86_400);
            let mut s = 0usize;
            let mut moves = vec![(Some(0), at)];
            while moves.len() < budget && s < 5 {
                s = if s == 0 || rng.random::<f64>() < 0.55 {
                    s + 1
                } else {
                    s - 1
                };
                at += rng.random_range(3_600..7 * 86_400);
                moves.push((Some(s), at));
            }
            let mut reason = None;
            if s < 5 && rng.random::<f64>() < 0.3 {
                at += rng.random_range(3_600..7 * 86_400);
                moves.push((None, at));
                reason = Some(LOSS_REASONS[rng.random_range(0..LOSS_REASONS.len())]);
            }
            Deal {
                source: SOURCES[rng.random_range(0..SOURCES.len())],
                moves,
                amount_cents: rng.random_range(100_000..10_000_000),
                reason,
            }
        })
        .collect()
}

fn stage_name(s: Option<usize>) -> &'static str {
    s.map_or("lost", |s| STAGES[s])
}

fn definition() -> anyhow::Result<FunnelDef> {
    let input: FunnelInput = serde_json::from_value(funnel_body())?;
    FunnelDef::parse(input).map_err(|p| anyhow::anyhow!("funnel definition: {p:?}"))
}

fn funnel_body() -> serde_json::Value {
    serde_json::json!({
        "name": "bench",
        "stages": STAGES.iter().map(|s| serde_json::json!({"name": s})).collect::<Vec<_>>(),
    })
}

/// `moves.parquet` (deal, seq, stage, moved_at, source) and `deals.parquet` (deal, source,
/// opened_at, status, amount_cents, closed_at, close_reason); times are unix seconds.
fn write_parquet(deals: &[Deal], dir: &std::path::Path) -> anyhow::Result<usize> {
    let n: usize = deals.iter().map(|d| d.moves.len()).sum();
    let mut deal = Vec::with_capacity(n);
    let mut seq = Vec::with_capacity(n);
    let mut stage = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    for (i, d) in deals.iter().enumerate() {
        for (k, (s, t)) in d.moves.iter().enumerate() {
            deal.push(i as u32);
            seq.push(k as u32);
            stage.push(stage_name(*s));
            at.push(*t);
            source.push(d.source);
        }
    }
    let mut moves = df![
        "deal" => deal,
        "seq" => seq,
        "stage" => stage,
        "moved_at" => at,
        "source" => source,
    ]?;
    ParquetWriter::new(std::fs::File::create(dir.join("moves.parquet"))?).finish(&mut moves)?;
    drop(moves);
    let status = |d: &Deal| match d.moves.last().map(|m| m.0) {
        Some(Some(5)) => "won",
        Some(None) => "lost",
        _ => "open",
    };
    let closed = |d: &Deal| (status(d) != "open").then(|| d.moves.last().map_or(0, |m| m.1));
    let mut table = df![
        "deal" => (0..deals.len() as u32).collect::<Vec<_>>(),
        "source" => deals.iter().map(|d| d.source).collect::<Vec<_>>(),
        "opened_at" => deals.iter().map(|d| d.moves[0].1).collect::<Vec<_>>(),
        "status" => deals.iter().map(status).collect::<Vec<_>>(),
        "amount_cents" => deals.iter().map(|d| d.amount_cents).collect::<Vec<_>>(),
        "closed_at" => deals.iter().map(closed).collect::<Vec<_>>(),
        "close_reason" => deals.iter().map(|d| d.reason).collect::<Vec<_>>(),
    ]?;
    ParquetWriter::new(std::fs::File::create(dir.join("deals.parquet"))?).finish(&mut table)?;
    Ok(n)
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Both Parquet files back into the engine's input, as the service's store would hand it.
fn read_deals(dir: &std::path::Path) -> anyhow::Result<Vec<DealFacts>> {
    let table = ParquetReader::new(std::fs::File::open(dir.join("deals.parquet"))?).finish()?;
    let source = table.column("source")?.str()?;
    let opened = table.column("opened_at")?.i64()?;
    let status = table.column("status")?.str()?;
    let amount = table.column("amount_cents")?.i64()?;
    let closed = table.column("closed_at")?.i64()?;
    let reason = table.column("close_reason")?.str()?;
    let mut deals: Vec<DealFacts> = source
        .iter()
        .zip(opened.iter())
        .zip(status.iter())
        .zip(amount.iter())
        .zip(closed.iter())
        .zip(reason.iter())
        .map(
            |(((((source, opened), status), amount), closed), reason)| DealFacts {
                key: source.map(str::to_string),
                opened_at: time(opened.unwrap_or(0)),
                status: match status {
                    Some("won") => Status::Won,
                    Some("lost") => Status::Lost,
                    _ => Status::Open,
                },
                amount: amount.map(|c| Decimal::new(c, 2)),
                currency: Some("USD".to_string()),
                closed_at: closed.map(time),
                close_reason: reason.map(str::to_string),
                moves: Vec::with_capacity(16),
            },
        )
        .collect();
    drop(table);
    let moves = ParquetReader::new(std::fs::File::open(dir.join("moves.parquet"))?).finish()?;
    let deal = moves.column("deal")?.u32()?;
    let stage = moves.column("stage")?.str()?;
    let at = moves.column("moved_at")?.i64()?;
    for ((d, s), t) in deal.iter().zip(stage.iter()).zip(at.iter()) {
        if let (Some(d), Some(s), Some(t)) = (d, s, t) {
            deals[d as usize].moves.push((s.to_string(), time(t)));
        }
    }
    Ok(deals)
}

pub async fn run(seconds: u64) -> anyhow::Result<Vec<Row>> {
    let mut rows = vec![tokio::task::spawn_blocking(engine).await??];
    rows.push(report_http().await?);
    rows.push(transitions(seconds).await?);
    Ok(rows)
}

/// Our report engine against DuckDB on the same 1M deals.
fn engine() -> anyhow::Result<Row> {
    let deals = 1_000_000;
    let dir = peer::scratch_dir("funnel")?;
    let generated = generate(deals, 42);
    let events = write_parquet(&generated, &dir)?;
    drop(generated);
    let def = definition()?;
    let params = Params {
        order: Order::Ordered,
        window: Some(Span::from_secs(WINDOW_DAYS * 86_400)),
        breakdown: Some("source".into()),
        cohort: None,
    };
    let started = Instant::now();
    let facts = read_deals(&dir)?;
    let read = started.elapsed().as_secs_f64();
    let report = compute(&def, 1, &facts, &params)?;
    let ours = started.elapsed().as_secs_f64();
    drop(facts);
    let entered: Vec<u64> = report.stages.iter().map(|s| s.entered).collect();
    let what = format!(
        "Funnel report engine, {deals} deals / {events} stage events, 6 stages, ordered, {WINDOW_DAYS}d window, breakdown by source: read Parquet (polars) + `funnel::reports::compute`"
    );
    let goal = "≤ DuckDB's time";
    let moves = dir.join("moves.parquet");
    let table = dir.join("deals.parquet");
    let window = (WINDOW_DAYS * 86_400).to_string();
    let result = peer::run_json(
        "duckdb_funnel.py",
        &[
            moves.to_string_lossy().as_ref(),
            table.to_string_lossy().as_ref(),
            &window,
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(match result {
        Ok(duck) => {
            let duck_secs = duck["seconds"].as_f64().unwrap_or(f64::NAN);
            let theirs: Vec<u64> = duck["entered"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
                .unwrap_or_default();
            let agree = theirs == entered;
            Row {
                what,
                result: format!(
                    "{ours:.2} s (read {read:.2} s; {:.2}× DuckDB's time; entered per stage {} DuckDB's: {entered:?})",
                    ours / duck_secs,
                    if agree {
                        "equal to"
                    } else {
                        "**differs from**"
                    }
                ),
                baseline: format!(
                    "DuckDB {} (threads = 2) first-match SQL, same files, same aggregates: {duck_secs:.2} s",
                    peer::duckdb_version()
                ),
                goal: goal.into(),
                verdict: Verdict::met_if(ours <= duck_secs && agree),
            }
        }
        Err(e) => {
            eprintln!("baseline unavailable: {e:#}");
            Row {
                what,
                result: format!("{ours:.2} s (read {read:.2} s)"),
                baseline: "baseline unavailable (see `make bench` output)".into(),
                goal: goal.into(),
                verdict: Verdict::Recorded,
            }
        }
    })
}

async fn funnel_service() -> RunningService {
    let ns = TestNamespace::new();
    let mut settings = ns.settings(funnel::SERVICE);
    settings.http.workers = None;
    settings.database.pool_size = 32;
    RunningService::start(funnel::definition(), settings).await
}

async fn create_funnel(service: &RunningService) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    create(
        &client,
        &service.url("/v1/funnels"),
        &funnel_body(),
        "funnel",
    )
    .await
}

/// `GET /v1/funnels/{id}/report` end to end, over 2,000 deals imported through
/// `POST /v1/funnels/{id}/events` (the same generator, another seed).
async fn report_http() -> anyhow::Result<Row> {
    let deals = 2_000;
    let service = funnel_service().await;
    let id = create_funnel(&service).await?;
    let mut ndjson = Vec::new();
    let mut events = 0;
    for (i, d) in generate(deals, 7).iter().enumerate() {
        for (s, t) in &d.moves {
            let mut line = serde_json::json!({
                "external_id": format!("bench-{i}"),
                "stage": stage_name(*s),
                "at": time(*t),
                "attributes": {"source": d.source},
            });
            if s.is_none() {
                line["reason"] = serde_json::json!(d.reason.unwrap_or("price"));
            }
            serde_json::to_writer(&mut ndjson, &line)?;
            ndjson.push(b'\n');
            events += 1;
        }
    }
    let client = reqwest::Client::new();
    let started = Instant::now();
    let import = client.post(service.url(&format!("/v1/funnels/{id}/events")));
    let imported = send_ndjson(import, ndjson).await?;
    let import_secs = started.elapsed().as_secs_f64();
    let path =
        format!("/v1/funnels/{id}/report?order=ordered&window={WINDOW_DAYS}d&breakdown=source");
    // The first request warms the connection pool and caches; the second is timed.
    client.get(service.url(&path)).send().await?;
    let started = Instant::now();
    let resp = client.get(service.url(&path)).send().await?;
    anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
    let bytes = resp.bytes().await?;
    let secs = started.elapsed().as_secs_f64();
    drop(service);
    Ok(Row {
        what: format!(
            "`GET /v1/funnels/{{id}}/report` end to end (store → engine → JSON), {deals} imported deals / {events} events, breakdown by source"
        ),
        result: format!(
            "{:.0} ms ({} bytes; the import took {import_secs:.1} s, {:.0} lines/s, rejected {})",
            secs * 1000.0,
            bytes.len(),
            events as f64 / import_secs,
            imported["rejected"]
        ),
        baseline: "—".into(),
        goal: "record".into(),
        verdict: Verdict::Recorded,
    })
}

/// Deals moved back and forth between `mql` and `sql`, so every move is valid: worker `w`
/// owns deals `w`, `w + 32`, …, and moves them round-robin.
async fn transitions(seconds: u64) -> anyhow::Result<Row> {
    let (insert_tps, _) = pgbench(seconds).await?;
    let service = funnel_service().await;
    let funnel_id = create_funnel(&service).await?;
    let per_worker = 100;
    let client = reqwest::Client::new();
    let url = service.url("/v1/deals");
    let ids: Vec<String> = futures::stream::iter(0..CONCURRENCY * per_worker)
        .map(|i| {
            let client = client.clone();
            let url = url.clone();
            let funnel_id = funnel_id.clone();
            async move {
                let body = serde_json::json!({
                    "funnel_id": funnel_id,
                    "stage": "mql",
                    "attributes": {"source": SOURCES[i % SOURCES.len()]},
                });
                create(&client, &url, &body, "deal").await
            }
        })
        .buffered(CONCURRENCY)
        .collect::<Vec<anyhow::Result<String>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let base = service.url("/v1/deals/");
    let moves = load(seconds, 201, move |client, w, i| {
        let deal = &ids[w + CONCURRENCY * (i % per_worker)];
        let to = if (i / per_worker) % 2 == 0 {
            "sql"
        } else {
            "mql"
        };
        client
            .post(format!("{base}{deal}/transitions"))
            .json(&serde_json::json!({"to_stage": to}))
    })
    .await?;
    drop(service);
    Ok(http_row(
        &format!(
            "`POST /v1/deals/{{id}}/transitions`, concurrency {CONCURRENCY}, {seconds} s, {} deals moved between mql and sql (append to log + projection + outbox in one transaction)",
            CONCURRENCY * per_worker
        ),
        &moves,
        format!("pgbench one-row INSERT, {CONCURRENCY} clients: {insert_tps:.0} tps"),
        3000.0,
        20.0,
    ))
}
