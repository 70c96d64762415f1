//! Closed-loop HTTP load at concurrency 32, and the idle RSS of a service process.

use std::time::{Duration, Instant};

use platform::testing::{RunningService, TestNamespace};

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
    let binary = "target/release/touchstone-leads";
    anyhow::ensure!(
        std::path::Path::new(binary).exists(),
        "{binary} is missing: build with `cargo build --release -p leads`"
    );
    let ns = TestNamespace::new();
    let settings = ns.settings(leads::SERVICE);
    let port = free_port()?;
    let mut child = tokio::process::Command::new(binary)
        .env("TOUCHSTONE_LEADS__HTTP__PORT", port.to_string())
        .env("TOUCHSTONE_LEADS__DATABASE__NAME", &settings.database.name)
        .env("TOUCHSTONE_LEADS__BUS__EXCHANGE", &settings.bus.exchange)
        .env(
            "TOUCHSTONE_LEADS__BUS__QUEUE_PREFIX",
            &settings.bus.queue_prefix,
        )
        .env("TOUCHSTONE_LEADS__BUS__EPHEMERAL_MS", "60000")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let ready_url = format!("http://127.0.0.1:{port}/health/ready");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(&ready_url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id().unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let _ = child.kill().await;
    let db = settings.database.clone();
    let _ = tokio::task::spawn_blocking(move || platform::db::drop_database(&db)).await;
    anyhow::ensure!(ready, "the leads binary never became ready");
    let mb = rss_kb / 1024.0;
    Ok(Row {
        what: "Idle RSS of the leads service (release binary, 2 HTTP workers)".into(),
        result: format!("{mb:.1} MB"),
        baseline: "—".into(),
        goal: "< 50 MB".into(),
        verdict: if mb < 50.0 {
            Verdict::Met
        } else {
            Verdict::Missed
        },
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
