//! The gateway's targets, each beside the same work straight to the service in the same
//! run: `GET /v1/leads/{id}` (32 clients for throughput, one client for the added latency),
//! a 500,000-touchpoint NDJSON bulk request, and how soon a revoked key is refused.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use platform::testing::TestNamespace;

use crate::http::{CONCURRENCY, Load, create, leads_service, load, load_with};
use crate::process::{free_port, status_mb};
use crate::report::{Row, Verdict};
use crate::touchpoints;

/// HAProxy started by the release `touchstone gateway start`, killed on drop.
struct Gateway {
    port: u16,
    state: PathBuf,
    child: Child,
}

fn touchstone() -> anyhow::Result<Command> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("touchstone");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: build -p cli in release",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    Ok(cmd)
}

impl Gateway {
    async fn start(leads_port: u16, touchpoints_port: u16) -> anyhow::Result<Gateway> {
        let port = free_port()?;
        let state =
            std::env::temp_dir().join(format!("touchstone-bench-gw-{}", std::process::id()));
        let closed = format!("127.0.0.1:{}", free_port()?);
        let child = touchstone()?
            .args(["gateway", "start", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics-bind")
            .arg(format!("127.0.0.1:{}", free_port()?))
            .arg("--state")
            .arg(&state)
            .env(
                "TOUCHSTONE_GATEWAY_LEADS_INSTANCES",
                format!("127.0.0.1:{leads_port}"),
            )
            .env(
                "TOUCHSTONE_GATEWAY_TOUCHPOINTS_INSTANCES",
                format!("127.0.0.1:{touchpoints_port}"),
            )
            .env("TOUCHSTONE_GATEWAY_FUNNEL_INSTANCES", &closed)
            .env("TOUCHSTONE_GATEWAY_BREAKEVEN_INSTANCES", &closed)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let gw = Gateway { port, state, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(gw.url("/health/live")).await.is_err() {
            anyhow::ensure!(Instant::now() < deadline, "the gateway did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(gw)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The status of `GET /v1/leads?limit=1` through the gateway with `key`.
    async fn leads_status(&self, client: &reqwest::Client, key: &str) -> anyhow::Result<u16> {
        let r = client
            .get(self.url("/v1/leads?limit=1"))
            .bearer_auth(key)
            .send()
            .await?;
        Ok(r.status().as_u16())
    }

    fn keys(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = touchstone()?
            .arg("keys")
            .args(args)
            .arg("--state")
            .arg(&self.state)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "keys {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?
            .lines()
            .last()
            .unwrap_or_default()
            .to_string())
    }

    /// Peak resident set of the HAProxy process (`touchstone gateway start` execs it).
    fn peak_rss_mb(&self) -> f64 {
        status_mb(self.child.id(), "VmHWM")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// The mean of two runs' figures (the baseline on either side of the measured run).
fn mean(a: &Load, b: &Load) -> Load {
    Load {
        rate: (a.rate + b.rate) / 2.0,
        p50_ms: (a.p50_ms + b.p50_ms) / 2.0,
        p99_ms: (a.p99_ms + b.p99_ms) / 2.0,
        errors: a.errors + b.errors,
    }
}

fn short(l: &Load) -> String {
    format!(
        "{:.0} req/s, p50 {:.2} ms, p99 {:.1} ms, {} errors",
        l.rate, l.p50_ms, l.p99_ms, l.errors
    )
}

pub async fn run(seconds: u64) -> anyhow::Result<Vec<Row>> {
    let leads = leads_service().await;
    let ns = TestNamespace::new();
    let tp = touchpoints::service(&ns).await;
    let gw = Gateway::start(leads.port, tp.port).await?;
    let key = gw.keys(&[
        "create",
        "--name",
        "bench",
        "--scope",
        "*",
        "--rate-limit",
        "1000000000/min",
    ])?;

    // Leads to read back.
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..500 {
        let body =
            serde_json::json!({"email": format!("gw{i}@bench.example"), "source": "webinar"});
        ids.push(create(&client, &leads.url("/v1/leads"), &body, "lead").await?);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.leads_status(&client, &key).await? != 200 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the gateway never routed to leads"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let direct_base = leads.url("/v1/leads/");
    let gw_base = gw.url("/v1/leads/");
    let get = |base: String, key: Option<String>| {
        let ids = ids.clone();
        move |c: &reqwest::Client, w: usize, i: usize| {
            let r = c.get(format!("{base}{}", ids[(w * 7919 + i) % ids.len()]));
            match &key {
                Some(k) => r.bearer_auth(k),
                None => r,
            }
        }
    };
    // Direct, through, direct: the baseline is the mean of the runs on either side, so a
    // drift of the machine's speed during the three runs does not favour either path.
    let direct_a = load(seconds, 200, get(direct_base.clone(), None)).await?;
    let through = load(seconds, 200, get(gw_base.clone(), Some(key.clone()))).await?;
    let direct_b = load(seconds, 200, get(direct_base.clone(), None)).await?;
    let direct = mean(&direct_a, &direct_b);
    // One client, one request at a time: the latency the gateway adds, with no queue.
    let direct_a = load_with(1, seconds, 200, get(direct_base.clone(), None)).await?;
    let through_one = load_with(1, seconds, 200, get(gw_base, Some(key.clone()))).await?;
    let direct_b = load_with(1, seconds, 200, get(direct_base, None)).await?;
    let direct_one = mean(&direct_a, &direct_b);
    let ratio = through.rate / direct.rate;
    let overhead = through_one.p50_ms - direct_one.p50_ms;

    // 500,000 touchpoints, once straight to the service and once through the gateway
    // (other ids, same shape and size).
    let count = 500_000;
    let lead_ids: Vec<uuid::Uuid> = (0..10_000).map(|_| uuid::Uuid::new_v4()).collect();
    let body = touchpoints::ndjson(0..count, &lead_ids);
    let mb = body.len() as f64 / 1e6;
    let (direct_secs, n) =
        touchpoints::post_bulk_to(client.post(tp.url("/v1/touchpoints/bulk")), body).await?;
    anyhow::ensure!(n == count as u64, "direct bulk inserted {n}");
    let body = touchpoints::ndjson(count..2 * count, &lead_ids);
    let request = client
        .post(gw.url("/v1/touchpoints/bulk"))
        .bearer_auth(&key);
    let (gw_secs, n) = touchpoints::post_bulk_to(request, body).await?;
    anyhow::ensure!(n == count as u64, "bulk through the gateway inserted {n}");
    let bulk_ratio = direct_secs / gw_secs;
    let rss = gw.peak_rss_mb();

    // Revocation: from the command's start until the first 401.
    let doomed = gw.keys(&["create", "--name", "doomed", "--scope", "leads:read"])?;
    anyhow::ensure!(gw.leads_status(&client, &doomed).await? == 200);
    let started = Instant::now();
    gw.keys(&["revoke", "doomed"])?;
    loop {
        if gw.leads_status(&client, &doomed).await? == 401 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "a revoked key still works after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let revoked_after = started.elapsed().as_secs_f64();

    Ok(vec![
        Row {
            what: format!(
                "`GET /v1/leads/{{id}}` through the gateway (HAProxy, key check, rate limit), concurrency {CONCURRENCY}, {seconds} s; load generator in the bench process"
            ),
            result: format!("{}: {ratio:.2}× direct", short(&through)),
            baseline: format!(
                "straight to the service (mean of the runs before and after): {}",
                short(&direct)
            ),
            goal: "throughput ≥ 0.8× direct".into(),
            verdict: Verdict::met_if(ratio >= 0.8 && through.errors == 0),
        },
        Row {
            what: format!(
                "`GET /v1/leads/{{id}}` through the gateway, one client, one request at a time, {seconds} s: added p50"
            ),
            result: format!("{overhead:+.2} ms ({})", short(&through_one)),
            baseline: format!(
                "straight to the service (mean of the runs before and after): {}",
                short(&direct_one)
            ),
            goal: "p50 overhead < 0.5 ms".into(),
            verdict: Verdict::met_if(overhead < 0.5 && through_one.errors == 0),
        },
        Row {
            what: format!(
                "`POST /v1/touchpoints/bulk`, {count} touchpoints ({mb:.0} MB NDJSON) through the gateway"
            ),
            result: format!(
                "{:.0}/s ({gw_secs:.1} s): {bulk_ratio:.2}× direct; gateway peak RSS {rss:.1} MB",
                count as f64 / gw_secs
            ),
            baseline: format!(
                "straight to the service: {:.0}/s ({direct_secs:.1} s)",
                count as f64 / direct_secs
            ),
            goal: "≥ 0.9× direct; gateway RSS bounded".into(),
            verdict: Verdict::met_if(bulk_ratio >= 0.9 && rss < 100.0),
        },
        Row {
            what: "key revocation: `touchstone keys revoke` until the running gateway answers 401"
                .into(),
            result: format!("{:.0} ms", revoked_after * 1000.0),
            baseline: "—".into(),
            goal: "≤ 2 s".into(),
            verdict: Verdict::met_if(revoked_after <= 2.0),
        },
    ])
}
