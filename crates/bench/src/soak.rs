//! The soak: the four services' release binaries in one broker namespace under a fixed,
//! open-loop mixed load for `--soak-seconds`; each service's resident set after the warm-up
//! and at the end, the latency of lead creation in the first and the last minute, every
//! request's outcome, and whether the events between the services kept up.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use futures::FutureExt;
use futures::future::BoxFuture;
use lapin::options::{QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use platform::testing::TestNamespace;
use platform::{Db, DbError, Settings};
use serde_json::json;

use crate::process::{ReleaseService, cpu_seconds, machine_cpu_seconds, release_binary};
use crate::report::{Row, Verdict};

/// `POST /v1/leads` per second.
const LEADS_PER_S: u32 = 50;
/// Single-touch `POST /v1/touchpoints` per second.
const TOUCHES_PER_S: u32 = 50;
/// One `POST /v1/touchpoints/bulk` of `BULK_LINES` lines every `BULK_EVERY`, the first
/// `BULK_FIRST` into the load (when there are leads to point at).
const BULK_EVERY: Duration = Duration::from_secs(10);
const BULK_FIRST: Duration = Duration::from_secs(5);
const BULK_LINES: usize = 1_000;
/// `POST /v1/deals/{id}/transitions` per second.
const MOVES_PER_S: u32 = 10;
/// Every deal makes three moves: sql, opportunity, then won (lost for one in four).
const MOVES_PER_DEAL: usize = 3;
/// A deal is looked up (and makes its first move) this long after its lead was due.
const DEAL_AFTER: Duration = Duration::from_secs(10);
/// A deal's moves are this many deals apart in the move schedule (6 s at 10 moves/s), so
/// that one has been answered before the next is sent.
const MOVE_GAP: usize = 20;
/// Every `LEAD_STRIDE`-th lead's deal is moved: leads per second over deals whose moves
/// start per second.
const LEAD_STRIDE: usize = (MOVES_PER_DEAL as u32 * LEADS_PER_S / MOVES_PER_S) as usize;
/// The resident sets are compared from this far into the load, when pools, caches and
/// allocator arenas have filled.
const WARM_UP: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const MINUTE: Duration = Duration::from_secs(60);
const MAX_GROWTH_PCT: f64 = 10.0;
/// How long after the load every event must have been published and consumed.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
const SERVICES: [&str; 4] = [
    leads::SERVICE,
    touchpoints::SERVICE,
    funnel::SERVICE,
    breakeven::SERVICE,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lead,
    Touch,
    Bulk,
    Lookup,
    Move,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Lead,
        Kind::Touch,
        Kind::Bulk,
        Kind::Lookup,
        Kind::Move,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Lead => "leads",
            Kind::Touch => "touches",
            Kind::Bulk => "bulk",
            Kind::Lookup => "deal lookups",
            Kind::Move => "transitions",
        }
    }
}

/// One request: when it was due (from the start of the load), how long from then until its
/// answer was read, and why it failed, if it did.
struct Sent {
    kind: Kind,
    due: Duration,
    latency: Duration,
    failure: Option<String>,
}

/// What was read every `SAMPLE_EVERY` during the load.
struct Sample {
    rss_mb: Vec<f64>,
    /// The anonymous part of it (heap and stacks): what the file-backed part (code pages,
    /// faulted in as new paths first run) leaves.
    anon_mb: Vec<f64>,
    /// Events waiting in the services' queues and retry queues.
    queued: u64,
    /// The queue holding most of them (its name without the namespace) and how many.
    deepest: (String, u32),
    /// Outbox rows not yet confirmed by the broker, over the four services.
    backlog: i64,
    /// CPU seconds so far: each service, this process (the load generator), the machine.
    cpu_s: Vec<f64>,
    bench_cpu_s: f64,
    machine_cpu_s: f64,
    taken: Instant,
}

impl Sample {
    /// CPU used between `earlier` and this sample, in % of one core: each service, the
    /// load generator, the machine.
    fn cpu_since(&self, earlier: &Sample) -> (Vec<f64>, f64, f64) {
        let secs = self.taken.duration_since(earlier.taken).as_secs_f64();
        let pct = |now: f64, then: f64| (now - then) / secs * 100.0;
        let services = self
            .cpu_s
            .iter()
            .zip(&earlier.cpu_s)
            .map(|(n, t)| pct(*n, *t))
            .collect();
        (
            services,
            pct(self.bench_cpu_s, earlier.bench_cpu_s),
            pct(self.machine_cpu_s, earlier.machine_cpu_s),
        )
    }
}

/// The four services, with a small pool on each database for the bench's own counts.
struct Suite {
    services: Vec<ReleaseService>,
    pools: Vec<Db>,
}

impl Suite {
    fn service(&self, name: &str) -> &ReleaseService {
        let i = SERVICES
            .iter()
            .position(|s| *s == name)
            .expect("a soak service");
        &self.services[i]
    }

    fn pool(&self, name: &str) -> &Db {
        let i = SERVICES
            .iter()
            .position(|s| *s == name)
            .expect("a soak service");
        &self.pools[i]
    }

    async fn stop(self) {
        drop(self.pools);
        for s in self.services {
            s.stop().await;
        }
    }
}

pub async fn run(seconds: u64) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(
        Duration::from_secs(seconds) >= WARM_UP + MINUTE,
        "--soak-seconds must cover the warm-up and a minute ({} s)",
        (WARM_UP + MINUTE).as_secs()
    );
    let binaries = SERVICES
        .iter()
        .map(|s| release_binary(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ns = TestNamespace::new();
    // Every queue and binding first, so that no event of the load is unroutable because
    // its consumer had not declared its queue yet.
    let bus = settings(&ns, leads::SERVICE, seconds).bus;
    let conn = platform::bus::connect(&bus, "bench-soak").await?;
    let queues = platform::bus::topology::declare_all(&conn, &bus).await?;
    let mut services = Vec::new();
    let mut started = Ok(());
    for (service, binary) in SERVICES.iter().zip(&binaries) {
        match ReleaseService::start_with(binary, service, settings(&ns, service, seconds)).await {
            Ok(s) => services.push(s),
            Err(e) => {
                started = Err(e);
                break;
            }
        }
    }
    for (s, name) in services.iter().zip(SERVICES) {
        if started.is_ok() && !s.ready(300).await {
            started = Err(anyhow::anyhow!("the {name} binary never became ready"));
        }
    }
    let mut pools = Vec::new();
    if started.is_ok() {
        for s in &services {
            match platform::db::open_pool(&s.settings.database, 1) {
                Ok(p) => pools.push(p),
                Err(e) => {
                    started = Err(e);
                    break;
                }
            }
        }
    }
    let suite = Suite { services, pools };
    let result = match started {
        Ok(()) => soak(&suite, &conn, &queues, seconds).await,
        Err(e) => Err(e),
    };
    suite.stop().await;
    delete_queues(&conn, &queues).await;
    let _ = conn.close(200, "done".into()).await;
    result
}

/// `service`'s settings in `ns`. The namespace's queues expire once unused for as long as
/// the soak lasts and ten minutes more: the usual minute would delete the dead-letter, retry
/// and unroutable queues, which have no consumer, in the middle of the load.
fn settings(ns: &TestNamespace, service: &str, seconds: u64) -> Settings {
    let mut settings = ns.settings(service);
    let expiry = Duration::from_secs(seconds) + DRAIN_LIMIT + Duration::from_secs(600);
    settings.bus.ephemeral_ms = Some(expiry.as_millis() as u64);
    settings
}

async fn soak(
    suite: &Suite,
    conn: &lapin::Connection,
    queues: &[String],
    seconds: u64,
) -> anyhow::Result<Vec<Row>> {
    let total = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + total;
    let lead_count = LEADS_PER_S as usize * seconds as usize;
    let leads: Arc<Vec<OnceLock<String>>> =
        Arc::new((0..lead_count).map(|_| OnceLock::new()).collect());
    let streams = vec![
        lead_stream(suite, &client, &leads, start, end),
        touch_stream(suite, &client, &leads, start, end),
        bulk_stream(suite, &client, &leads, start, end),
        move_stream(suite, &client, &leads, start, end, seconds),
    ];

    let mut samples = Vec::new();
    for k in 0.. {
        let at = (SAMPLE_EVERY * k).min(total);
        tokio::time::sleep_until((start + at).into()).await;
        let s = sample(suite, conn, queues).await?;
        let cpu = samples.last().map(|p| s.cpu_since(p)).map_or_else(
            String::new,
            |(services, bench, machine)| {
                format!(
                    "  CPU % {} bench {bench:.0} machine {machine:.0}",
                    services
                        .iter()
                        .map(|c| format!("{c:.0}"))
                        .collect::<Vec<_>>()
                        .join("/")
                )
            },
        );
        // The trend, for whoever watches the run (the table keeps only its ends).
        eprintln!(
            "soak: {:>4} s  RSS (anonymous) MB {}  queued {}{}  outbox {}{cpu}",
            at.as_secs(),
            SERVICES
                .iter()
                .zip(s.rss_mb.iter().zip(&s.anon_mb))
                .map(|(n, (mb, anon))| format!("{n} {mb:.1} ({anon:.1})"))
                .collect::<Vec<_>>()
                .join(", "),
            s.queued,
            if s.deepest.1 > 0 {
                format!(" (most in {}: {})", s.deepest.0, s.deepest.1)
            } else {
                String::new()
            },
            s.backlog
        );
        samples.push(s);
        if at >= total {
            break;
        }
    }
    let peak_mb: Vec<f64> = suite
        .services
        .iter()
        .map(|s| s.status_mb("VmHWM"))
        .collect();
    let mut sent = Vec::new();
    for stream in streams {
        for task in stream.await? {
            sent.extend(task.await?);
        }
    }
    let load_ended = Instant::now();

    // The drain: every lead has its deal, every outbox row is confirmed, every queue empty.
    let created = leads.iter().filter(|l| l.get().is_some()).count() as i64;
    let drained = loop {
        let s = sample(suite, conn, queues).await?;
        let with_deal = with_deal(suite).await?;
        if s.queued == 0 && s.backlog == 0 && with_deal >= created {
            break Some(load_ended.elapsed());
        }
        if load_ended.elapsed() > DRAIN_LIMIT {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let with_deal = with_deal(suite).await?;
    let depths = depths(conn, queues).await?;
    let dead: u64 = depths
        .iter()
        .filter(|(q, _)| q.ends_with(".dlq"))
        .map(|(_, n)| u64::from(*n))
        .sum();
    let unroutable: u64 = depths
        .iter()
        .filter(|(q, _)| q.ends_with(".unroutable"))
        .map(|(_, n)| u64::from(*n))
        .sum();
    let still_queued: u64 = depths
        .iter()
        .filter(|(q, _)| !q.ends_with(".dlq") && !q.ends_with(".unroutable"))
        .map(|(_, n)| u64::from(*n))
        .sum();
    let wins = suite
        .pool(funnel::SERVICE)
        .run(|c| count(c, "SELECT count(*) AS n FROM deals WHERE status = 'won'"))
        .await?;

    let failures: Vec<&Sent> = sent.iter().filter(|s| s.failure.is_some()).collect();
    for f in failures.iter().take(10) {
        eprintln!(
            "soak: {} due at {:.1} s failed: {}",
            f.kind.name(),
            f.due.as_secs_f64(),
            f.failure.as_deref().unwrap_or_default()
        );
    }
    let per_kind = Kind::ALL
        .iter()
        .map(|k| {
            let all = sent.iter().filter(|s| s.kind == *k).count();
            let failed = failures.iter().filter(|s| s.kind == *k).count();
            format!("{} {all} ({failed} failed)", k.name())
        })
        .collect::<Vec<_>>()
        .join(", ");

    let mut rows = vec![Row {
        what: format!(
            "Soak: the four release services in one broker namespace, {seconds} s of fixed open-loop load (every request starts on schedule, answered or not): {LEADS_PER_S} `POST /v1/leads`/s, {TOUCHES_PER_S} single-touch `POST /v1/touchpoints`/s, a {BULK_LINES}-line `POST /v1/touchpoints/bulk` every {} s, {MOVES_PER_S} `POST /v1/deals/{{id}}/transitions`/s (every {LEAD_STRIDE}th lead's deal looked up by `GET /v1/deals?lead_id=` {} s after the lead, then moved to sql, opportunity, and won, or lost for one deal in four, {} s apart)",
            BULK_EVERY.as_secs(),
            DEAL_AFTER.as_secs(),
            MOVE_GAP * MOVES_PER_DEAL / MOVES_PER_S as usize,
        ),
        result: format!(
            "{} requests, {} failed: {per_kind}",
            sent.len(),
            failures.len()
        ),
        baseline: "—".into(),
        goal: "no request fails (any non-2xx or transport error)".into(),
        verdict: Verdict::met_if(failures.is_empty()),
    }];

    let during = &samples;
    let max_queued = during.iter().map(|s| s.queued).max().unwrap_or(0);
    let deepest = during
        .iter()
        .map(|s| &s.deepest)
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map(|(q, n)| format!(" (at most {n} in {q})"))
        .unwrap_or_default();
    let max_backlog = during.iter().map(|s| s.backlog).max().unwrap_or(0);
    rows.push(Row {
        what: "Soak: the events between the services (lead → deal and journey stitching, touches → engagement and spend, deal moves → lifecycle, won deals → attribution and revenue), sampled every 10 s during the load, then drained".into(),
        result: format!(
            "at most {max_queued} events queued{deepest} and {max_backlog} outbox rows unpublished during the load; {}; {with_deal} of {created} leads have their deal, {wins} deals won; {dead} dead-lettered, {unroutable} unroutable",
            match drained {
                Some(d) => format!("all published and consumed {:.1} s after it", d.as_secs_f64()),
                None => format!(
                    "not drained {} s after it ({still_queued} still queued)",
                    DRAIN_LIMIT.as_secs()
                ),
            }
        ),
        baseline: "—".into(),
        goal: format!(
            "drained ≤ {} s after the load, every lead's deal opened, nothing dead-lettered or unroutable",
            DRAIN_LIMIT.as_secs()
        ),
        verdict: Verdict::met_if(
            drained.is_some() && with_deal == created && dead == 0 && unroutable == 0,
        ),
    });

    let first = (WARM_UP.as_secs() / SAMPLE_EVERY.as_secs()) as usize;
    let (warm, last) = (&samples[first], &samples[samples.len() - 1]);
    for (i, name) in SERVICES.iter().enumerate() {
        let (a, b) = (warm.rss_mb[i], last.rss_mb[i]);
        let growth = (b - a) / a * 100.0;
        let (anon_a, anon_b) = (warm.anon_mb[i], last.anon_mb[i]);
        let max = samples[first..]
            .iter()
            .map(|s| s.rss_mb[i])
            .fold(f64::NAN, f64::max);
        rows.push(Row {
            what: format!(
                "Soak: RSS of `touchstone-{name}` {} s into the load and at its end ({seconds} s)",
                WARM_UP.as_secs()
            ),
            result: format!(
                "{a:.1} MB → {b:.1} MB ({growth:+.1} %), of which anonymous {anon_a:.1} → {anon_b:.1} MB; largest sample after the warm-up {max:.1} MB, peak (VmHWM) {:.1} MB",
                peak_mb[i]
            ),
            baseline: "—".into(),
            goal: format!("growth ≤ {MAX_GROWTH_PCT:.0} %"),
            verdict: Verdict::met_if(growth <= MAX_GROWTH_PCT),
        });
    }

    let leads_sent = || sent.iter().filter(|s| s.kind == Kind::Lead);
    let lead_failures = leads_sent().filter(|s| s.failure.is_some()).count();
    let window = |from: Duration| {
        let mut ms: Vec<f64> = leads_sent()
            .filter(|s| s.failure.is_none() && s.due >= from && s.due < from + MINUTE)
            .map(|s| s.latency.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        format!(
            "{}–{} s: p50 {:.1} ms, p99 {:.1} ms ({} requests)",
            from.as_secs(),
            (from + MINUTE).as_secs(),
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms.len()
        )
    };
    rows.push(Row {
        what: format!(
            "Soak: `POST /v1/leads` latency (from when each request was due) in the first and the last minute of the {seconds} s load"
        ),
        result: format!(
            "first {}; last {}; {lead_failures} failed",
            window(Duration::ZERO),
            window(total - MINUTE)
        ),
        baseline: "—".into(),
        goal: "recorded; missed if any lead request failed".into(),
        verdict: if lead_failures == 0 {
            Verdict::Recorded
        } else {
            Verdict::Missed
        },
    });
    let (services, bench, machine) = samples[samples.len() - 1].cpu_since(&samples[0]);
    let ours: f64 = services.iter().sum::<f64>() + bench;
    rows.push(Row {
        what: format!("Soak: CPU over the {seconds} s load, in % of one core (the machine has {} cores)", cores()),
        result: format!(
            "{}, load generator {bench:.0} %; the machine {machine:.0} %, of which PostgreSQL, RabbitMQ and anything else running {:.0} %",
            SERVICES
                .iter()
                .zip(&services)
                .map(|(n, c)| format!("{n} {c:.0} %"))
                .collect::<Vec<_>>()
                .join(", "),
            machine - ours
        ),
        baseline: "—".into(),
        goal: "recorded".into(),
        verdict: Verdict::Recorded,
    });
    Ok(rows)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// The value below which a share `p` of the sorted `ms` lie; NaN when there are none.
fn percentile(ms: &[f64], p: f64) -> f64 {
    ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

/// Sends `request`, due at `due`, and reads the whole answer; the latency runs from `due`,
/// so a request that waited behind others (or for a connection) is charged for the wait.
async fn send(
    kind: Kind,
    start: Instant,
    due: Instant,
    request: reqwest::RequestBuilder,
) -> (Sent, Option<serde_json::Value>) {
    let answer = async {
        let r = request.send().await?;
        let status = r.status();
        Ok::<_, reqwest::Error>((status, r.bytes().await?))
    }
    .await;
    let latency = due.elapsed();
    let (failure, body) = match answer {
        Ok((status, body)) if status.is_success() => (None, serde_json::from_slice(&body).ok()),
        Ok((status, body)) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            (Some(format!("{status}: {text}")), None)
        }
        Err(e) => (Some(e.to_string()), None),
    };
    let sent = Sent {
        kind,
        due: due.saturating_duration_since(start),
        latency,
        failure,
    };
    (sent, body)
}

type Request = BoxFuture<'static, Vec<Sent>>;

/// Starts `request(i, due)` at `due = start + offset + i × period` until `end`, each on a
/// task of its own, whether or not earlier ones have answered (open loop). `None` sends
/// nothing in that slot.
fn paced<F>(
    start: Instant,
    offset: Duration,
    period: Duration,
    end: Instant,
    mut request: F,
) -> tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<Vec<Sent>>>>
where
    F: FnMut(usize, Instant) -> Option<Request> + Send + 'static,
{
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for i in 0.. {
            let due = start + offset + period * i as u32;
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
            if let Some(r) = request(i as usize, due) {
                tasks.push(tokio::spawn(r));
            }
        }
        tasks
    })
}

fn every(per_second: u32) -> Duration {
    Duration::from_secs(1) / per_second
}

/// Lead `i` is a demo lead (seeded, unique e-mail); its id is kept for the other streams.
fn lead_stream(
    suite: &Suite,
    client: &reqwest::Client,
    leads: &Arc<Vec<OnceLock<String>>>,
    start: Instant,
    end: Instant,
) -> tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<Vec<Sent>>>> {
    let url = suite.service(leads::SERVICE).url("/v1/leads");
    let (client, leads) = (client.clone(), leads.clone());
    let mut generator = demo::Generator::new(42);
    paced(
        start,
        Duration::ZERO,
        every(LEADS_PER_S),
        end,
        move |i, due| {
            let body = generator.lead(i);
            let request = client.post(&url).json(&body);
            let leads = leads.clone();
            Some(
                async move {
                    let (sent, answer) = send(Kind::Lead, start, due, request).await;
                    if let (Some(id), Some(slot)) =
                        (answer.as_ref().and_then(|a| a["id"].as_str()), leads.get(i))
                    {
                        let _ = slot.set(id.to_string());
                    }
                    vec![sent]
                }
                .boxed(),
            )
        },
    )
}

/// The lead of index `i`, if its creation has answered.
fn lead_id(leads: &[OnceLock<String>], i: usize) -> Option<String> {
    leads.get(i)?.get().cloned()
}

/// A single touch's channel and type, and the cost and campaign of a paid one.
type Touch = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// Single touches of leads created 2 to 12 s earlier, cycling through an email open, a paid
/// click and a paid impression (with cost, so break-even records spend), a visit and a page
/// view; an anonymous visit when that lead's creation has not answered.
fn touch_stream(
    suite: &Suite,
    client: &reqwest::Client,
    leads: &Arc<Vec<OnceLock<String>>>,
    start: Instant,
    end: Instant,
) -> tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<Vec<Sent>>>> {
    const KINDS: [Touch; 5] = [
        ("email", "email_open", None),
        ("paid_search", "click", Some(("0.85", "cmp-search-generic"))),
        ("organic_search", "visit", None),
        ("content", "page_view", None),
        (
            "paid_social",
            "impression",
            Some(("0.012", "cmp-social-launch")),
        ),
    ];
    let url = suite.service(touchpoints::SERVICE).url("/v1/touchpoints");
    let (client, leads) = (client.clone(), leads.clone());
    let per_touch = f64::from(LEADS_PER_S) / f64::from(TOUCHES_PER_S);
    let back = 2 * LEADS_PER_S as usize;
    let spread = 10 * LEADS_PER_S as usize;
    paced(
        start,
        Duration::ZERO,
        every(TOUCHES_PER_S),
        end,
        move |i, due| {
            let now_lead = (i as f64 * per_touch) as usize;
            let lead = now_lead
                .checked_sub(back + (i * 7919) % spread)
                .and_then(|j| lead_id(&leads, j));
            let (channel, ty, paid) = KINDS[i % KINDS.len()];
            let mut body = json!({
                "occurred_at": chrono::Utc::now(),
                "channel": channel,
                "type": ty,
            });
            match lead {
                Some(id) => body["lead_id"] = json!(id),
                None => {
                    body["anonymous_id"] = json!(format!("soak-anon-{i}"));
                    body["channel"] = json!("direct");
                    body["type"] = json!("visit");
                }
            }
            if let (Some((cost, campaign)), Some(_)) = (paid, body.get("lead_id")) {
                body["cost"] = json!(cost);
                body["currency"] = json!("USD");
                body["campaign_id"] = json!(campaign);
            }
            let request = client.post(&url).json(&body);
            Some(async move { vec![send(Kind::Touch, start, due, request).await.0] }.boxed())
        },
    )
}

/// `BULK_LINES` NDJSON touches (the ingest benchmark's lines, fresh ids) spread over the
/// last 500 leads created.
fn bulk_stream(
    suite: &Suite,
    client: &reqwest::Client,
    leads: &Arc<Vec<OnceLock<String>>>,
    start: Instant,
    end: Instant,
) -> tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<Vec<Sent>>>> {
    let url = suite
        .service(touchpoints::SERVICE)
        .url("/v1/touchpoints/bulk");
    let (client, leads) = (client.clone(), leads.clone());
    paced(start, BULK_FIRST, BULK_EVERY, end, move |k, due| {
        let now_lead = (due - start).as_secs() as usize * LEADS_PER_S as usize;
        let mut ids: Vec<uuid::Uuid> = (now_lead.saturating_sub(500)..now_lead)
            .filter_map(|j| lead_id(&leads, j)?.parse().ok())
            .collect();
        if ids.is_empty() {
            ids.push(uuid::Uuid::new_v4());
        }
        let body = crate::touchpoints::ndjson(k * BULK_LINES..(k + 1) * BULK_LINES, &ids);
        let request = client
            .post(&url)
            .header("content-type", "application/x-ndjson")
            .body(body);
        Some(
            async move {
                let (mut sent, answer) = send(Kind::Bulk, start, due, request).await;
                if let Some(a) = answer
                    && a["rejected"].as_u64() != Some(0)
                {
                    sent.failure = Some(format!("lines rejected: {a}"));
                }
                vec![sent]
            }
            .boxed(),
        )
    })
}

/// Deal `d` is the deal the funnel opened for lead `d × LEAD_STRIDE`. Slot `i` of the move
/// schedule makes move `i % 3` of deal `i / 3 − (i % 3) × MOVE_GAP`: the first move looks
/// the deal up by its lead and moves it to sql, the second to opportunity, the third wins it
/// (with an amount) or, for one deal in four, loses it (with a reason).
fn move_stream(
    suite: &Suite,
    client: &reqwest::Client,
    leads: &Arc<Vec<OnceLock<String>>>,
    start: Instant,
    end: Instant,
    seconds: u64,
) -> tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<Vec<Sent>>>> {
    let base = suite.service(funnel::SERVICE).url("/v1/deals");
    let (client, leads) = (client.clone(), leads.clone());
    let deal_count = seconds as usize * MOVES_PER_S as usize / MOVES_PER_DEAL + 1;
    let deals: Arc<Vec<OnceLock<String>>> =
        Arc::new((0..deal_count).map(|_| OnceLock::new()).collect());
    paced(start, DEAL_AFTER, every(MOVES_PER_S), end, move |i, due| {
        let step = i % MOVES_PER_DEAL;
        let d = (i / MOVES_PER_DEAL).checked_sub(step * MOVE_GAP)?;
        let (client, base, deals) = (client.clone(), base.clone(), deals.clone());
        if step == 0 {
            // A lead whose creation failed or has not answered is counted with the leads.
            let lead = lead_id(&leads, d * LEAD_STRIDE)?;
            let lookup = client.get(format!("{base}?lead_id={lead}"));
            return Some(
                async move {
                    let (mut found, answer) = send(Kind::Lookup, start, due, lookup).await;
                    let deal = answer
                        .as_ref()
                        .and_then(|a| a["items"][0]["id"].as_str())
                        .map(str::to_string);
                    let Some(deal) = deal else {
                        if found.failure.is_none() {
                            found.failure = Some(format!(
                                "no deal for lead {lead} {} s after it was due",
                                DEAL_AFTER.as_secs()
                            ));
                        }
                        return vec![found];
                    };
                    let _ = deals[d].set(deal.clone());
                    let moved = client
                        .post(format!("{base}/{deal}/transitions"))
                        .json(&json!({"to_stage": "sql"}));
                    let (moved, _) = send(Kind::Move, start, Instant::now(), moved).await;
                    vec![found, moved]
                }
                .boxed(),
            );
        }
        // A deal whose lookup failed was counted then.
        let deal = deals.get(d)?.get()?.clone();
        let body = match (step, d % 4) {
            (1, _) => json!({"to_stage": "opportunity"}),
            (_, 0) => json!({"to_stage": "lost", "reason": "price"}),
            _ => json!({"to_stage": "won", "amount": "12500.00", "currency": "USD"}),
        };
        let request = client
            .post(format!("{base}/{deal}/transitions"))
            .json(&body);
        Some(async move { vec![send(Kind::Move, start, due, request).await.0] }.boxed())
    })
}

/// The resident set of every service, the events waiting in the consumers' queues, and the
/// unpublished outbox rows.
async fn sample(
    suite: &Suite,
    conn: &lapin::Connection,
    queues: &[String],
) -> anyhow::Result<Sample> {
    let rss_mb = suite
        .services
        .iter()
        .map(|s| s.status_mb("VmRSS"))
        .collect();
    let anon_mb = suite
        .services
        .iter()
        .map(|s| s.status_mb("RssAnon"))
        .collect();
    let consumed: Vec<(String, u32)> = depths(conn, queues)
        .await?
        .into_iter()
        .filter(|(q, _)| !q.ends_with(".dlq") && !q.ends_with(".unroutable"))
        .collect();
    let queued = consumed.iter().map(|(_, n)| u64::from(*n)).sum();
    let deepest = consumed
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(q, n)| (q.splitn(3, '.').nth(2).unwrap_or(&q).to_string(), n))
        .unwrap_or_default();
    let mut backlog = 0;
    for pool in &suite.pools {
        backlog += pool
            .run(|c| {
                count(
                    c,
                    "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL",
                )
            })
            .await?;
    }
    Ok(Sample {
        cpu_s: suite.services.iter().map(|s| s.cpu_seconds()).collect(),
        bench_cpu_s: cpu_seconds("self"),
        machine_cpu_s: machine_cpu_seconds(),
        taken: Instant::now(),
        rss_mb,
        anon_mb,
        queued,
        deepest,
        backlog,
    })
}

/// The messages ready in each queue (a passive declare: the queues exist, `declare_all`
/// made them).
async fn depths(conn: &lapin::Connection, queues: &[String]) -> anyhow::Result<Vec<(String, u32)>> {
    let channel = conn.create_channel().await?;
    let mut out = Vec::with_capacity(queues.len());
    for q in queues {
        let declared = channel
            .queue_declare(
                q.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("queue {q}: {e}"))?;
        out.push((q.clone(), declared.message_count()));
    }
    let _ = channel.close(200, "sampled".into()).await;
    Ok(out)
}

/// Deletes the namespace's queues, which would otherwise keep whatever is left in them
/// (a backlog, dead letters) until they expire.
async fn delete_queues(conn: &lapin::Connection, queues: &[String]) {
    for q in queues {
        // A channel each: a failed delete closes its channel.
        if let Ok(channel) = conn.create_channel().await {
            let _ = channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
            let _ = channel.close(200, "deleted".into()).await;
        }
    }
}

/// Leads the funnel has opened a deal for.
async fn with_deal(suite: &Suite) -> anyhow::Result<i64> {
    Ok(suite
        .pool(funnel::SERVICE)
        .run(|c| {
            count(
                c,
                "SELECT count(DISTINCT lead_id) AS n FROM deals WHERE lead_id IS NOT NULL",
            )
        })
        .await?)
}

/// A query returning one `bigint` column named `n`.
fn count(conn: &mut diesel::PgConnection, sql: &str) -> Result<i64, DbError> {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .map(|r| r.n)
        .map_err(DbError::from)
}
