//! Closed-loop HTTP load at concurrency 32, and the idle RSS of a service process.

use std::time::{Duration, Instant};

use platform::testing::{RunningService, TestNamespace};

use crate::process::{ReleaseService, release_binary};
use crate::report::{Row, Verdict};

pub const CONCURRENCY: usize = 32;

/// What a closed-loop load run measured.
pub struct Load {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

impl Load {
    pub fn describe(&self) -> String {
        format!(
            "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            self.rate, self.p50_ms, self.p99_ms, self.errors
        )
    }
}

/// `CONCURRENCY` clients each sending requests back to back for `seconds`; `request(worker,
/// i)` builds the i-th request of a worker, and a response with `expect` status counts.
pub async fn load<F>(seconds: u64, expect: u16, request: F) -> anyhow::Result<Load>
where
    F: Fn(&reqwest::Client, usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    load_with(CONCURRENCY, seconds, expect, request).await
}

/// `load` with `concurrency` clients.
pub async fn load_with<F>(
    concurrency: usize,
    seconds: u64,
    expect: u16,
    request: F,
) -> anyhow::Result<Load>
where
    F: Fn(&reqwest::Client, usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let request = std::sync::Arc::new(request);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let client = client.clone();
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = 0;
            while Instant::now() < deadline {
                let started = Instant::now();
                match request(&client, w, i).send().await {
                    Ok(r) if r.status().as_u16() == expect => {
                        let _ = r.bytes().await;
                        latencies.push(started.elapsed());
                    }
                    _ => errors += 1,
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarize(latencies, errors, elapsed))
}

/// Open-loop load: requests start at a fixed `rate` per second for `seconds`, whether or not
/// earlier ones have answered, each on its own task. A latency runs from the moment its
/// request was due, so a stalled server is charged for the requests that queued behind
/// the stall (no coordinated omission). `request(i)` builds the i-th request.
pub async fn open_load<F>(rate: u32, seconds: u64, expect: u16, request: F) -> anyhow::Result<Load>
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    let total = rate as usize * seconds as usize;
    let interval = Duration::from_secs(1) / rate;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let sent = request(&client, i).send();
        tasks.push(tokio::spawn(async move {
            match sent.await {
                Ok(r) if r.status().as_u16() == expect => {
                    let _ = r.bytes().await;
                    Some(due.elapsed())
                }
                _ => None,
            }
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        match t.await? {
            Some(l) => latencies.push(l),
            None => errors += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarize(latencies, errors, elapsed))
}

/// Rate, median and p99 of the latencies of one run.
fn summarize(mut latencies: Vec<Duration>, errors: usize, elapsed: f64) -> Load {
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    Load {
        rate: latencies.len() as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
    }
}

/// Sends `request`, requires a success, and returns the JSON answer.
pub async fn send_ok(request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
    Ok(request.send().await?.error_for_status()?.json().await?)
}

/// Sends `body` as NDJSON with `request`, requires a success, and returns the JSON answer.
pub async fn send_ndjson(
    request: reqwest::RequestBuilder,
    body: Vec<u8>,
) -> anyhow::Result<serde_json::Value> {
    send_ok(
        request
            .header("content-type", "application/x-ndjson")
            .body(body),
    )
    .await
}

/// `POST`s `body` to `url`, requires a success, and returns the created resource's `id`
/// (`what` names the resource when there is none).
pub async fn create(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    what: &str,
) -> anyhow::Result<String> {
    let r = send_ok(client.post(url).json(body)).await?;
    r["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no {what} id in {r}"))
}

/// A leads service in this process with a pool sized for the load.
pub async fn leads_service() -> RunningService {
    let ns = TestNamespace::new();
    let mut settings = ns.settings(leads::SERVICE);
    settings.http.workers = None;
    settings.database.pool_size = 32;
    RunningService::start(leads::definition(), settings).await
}

/// Starts the release binary with zero traffic and reads its resident set after it settles.
pub async fn idle_rss() -> anyhow::Result<Row> {
    let binary = release_binary(leads::SERVICE)?;
    let service = ReleaseService::start(&binary, leads::SERVICE).await?;
    let ready = service.ready(100).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mb = service.status_mb("VmRSS");
    service.stop().await;
    anyhow::ensure!(ready, "the leads binary never became ready");
    Ok(Row {
        what: "Idle RSS of the leads service (release binary, 2 HTTP workers)".into(),
        result: format!("{mb:.1} MB"),
        baseline: "—".into(),
        goal: "< 50 MB".into(),
        verdict: Verdict::met_if(mb < 50.0),
    })
}
