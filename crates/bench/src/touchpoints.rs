//! The touchpoints service's targets: bulk NDJSON ingest beside a `COPY` of the same rows
//! into a table with the same indexes, `GET /v1/leads/{id}/journey` under load, 1M
//! touchpoints ingested and consumed by the leads service, and a 1 GB file ingested by
//! the release binary with its peak RSS.

use std::time::{Duration, Instant};

use platform::testing::{RunningService, TestNamespace};

use crate::http::{CONCURRENCY, load, open_load, send_ndjson};
use crate::leads::{TOUCHPOINT_RECORDED, create_leads, http_row, inbox_count, wait_applied};
use crate::process::{ReleaseService, psql, release_binary};
use crate::report::{Row, Verdict};

/// The channels of the generated touches: the first six the contract knows.
const CHANNELS: &[&str] = contracts::touchpoints::CHANNELS.split_at(6).0;
/// The offered load of the open-loop journey run: about 40% of what 32 closed-loop clients
/// get through on 2 cores, so that the row measures the endpoint rather than a queue.
const JOURNEY_RATE: u32 = 1_000;
const TYPES: [&str; 4] = ["impression", "click", "visit", "page_view"];

/// NDJSON line `n` of a seeded-by-position set: a lead's touch with campaign and UTM fields,
/// padded with a `properties` object to about `pad` more bytes.
fn line(out: &mut Vec<u8>, n: usize, leads: &[uuid::Uuid], pad: usize) {
    let at = chrono::DateTime::from_timestamp(1_735_689_600 + (n as i64 * 37) % 31_536_000, 0)
        .unwrap_or_default();
    let mut v = serde_json::json!({
        "id": uuid::Uuid::from_u128(0x7000_0000_0000_0000_0000_0000_0000_0000 | n as u128),
        "occurred_at": at,
        "channel": CHANNELS[n % CHANNELS.len()],
        "type": TYPES[(n / 7) % TYPES.len()],
        "campaign_id": format!("cmp-{}", n % 40),
        "utm_source": "bench",
        "utm_medium": "cpc",
        "utm_campaign": format!("spring-{}", n % 12),
        "lead_id": leads[n % leads.len()],
    });
    if pad > 0 {
        v["properties"] = serde_json::json!({"page": "x".repeat(pad)});
    }
    serde_json::to_writer(&mut *out, &v).expect("JSON serializes");
    out.push(b'\n');
}

pub(crate) fn ndjson(range: std::ops::Range<usize>, leads: &[uuid::Uuid]) -> Vec<u8> {
    let mut out = Vec::with_capacity(range.len() * 330);
    for n in range {
        line(&mut out, n, leads, 0);
    }
    out
}

pub(crate) async fn service(ns: &TestNamespace) -> RunningService {
    let mut settings = ns.settings(touchpoints::SERVICE);
    settings.http.workers = None;
    settings.database.pool_size = 32;
    let def = touchpoints::definition().expect("touchpoints config from the environment");
    RunningService::start(def, settings).await
}

/// Posts one NDJSON body and returns (seconds, inserted).
async fn post_bulk(
    client: &reqwest::Client,
    service: &RunningService,
    body: Vec<u8>,
) -> anyhow::Result<(f64, u64)> {
    post_bulk_to(client.post(service.url("/v1/touchpoints/bulk")), body).await
}

/// Sends one NDJSON body with `request` (a POST to the bulk route, straight or through the
/// gateway) and returns (seconds, inserted).
pub(crate) async fn post_bulk_to(
    request: reqwest::RequestBuilder,
    body: Vec<u8>,
) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let r = send_ndjson(request, body).await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        r["rejected"].as_u64() == Some(0),
        "bulk ingest rejected lines: {r}"
    );
    Ok((secs, r["inserted"].as_u64().unwrap_or(0)))
}

/// 500,000 touchpoints in one bulk request, then the same rows exported and `\copy`-ed
/// (client-side, text format) into `LIKE touchpoints INCLUDING ALL`; then journeys.
pub async fn ingest(seconds: u64) -> anyhow::Result<Vec<Row>> {
    let count = 500_000;
    let ns = TestNamespace::new();
    let service = service(&ns).await;
    let leads: Vec<uuid::Uuid> = (0..10_000).map(|_| uuid::Uuid::new_v4()).collect();
    let body = ndjson(0..count, &leads);
    let bytes = body.len();
    let client = reqwest::Client::new();
    let (secs, inserted) = post_bulk(&client, &service, body).await?;
    anyhow::ensure!(inserted == count as u64, "inserted {inserted} of {count}");
    let rate = count as f64 / secs;
    let events = service.count("SELECT count(*) AS n FROM outbox").await;

    let db = service.settings.database.name.clone();
    let file =
        std::env::temp_dir().join(format!("touchstone-bench-copy-{}.txt", std::process::id()));
    let copy = {
        let db = db.clone();
        let file = file.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
            let f = file.to_string_lossy();
            psql(&db, &format!("\\copy touchpoints TO '{f}'"))?;
            psql(
                &db,
                "CREATE TABLE touchpoints_copy (LIKE touchpoints INCLUDING ALL)",
            )?;
            let started = Instant::now();
            psql(&db, &format!("\\copy touchpoints_copy FROM '{f}'"))?;
            let secs = started.elapsed().as_secs_f64();
            psql(&db, "DROP TABLE touchpoints_copy")?;
            Ok(secs)
        })
        .await?
    };
    let _ = std::fs::remove_file(&file);
    let copy_secs = copy?;
    let copy_rate = count as f64 / copy_secs;
    let ratio = rate / copy_rate;

    let base = service.url("/v1/leads/");
    let journey = {
        let (base, leads) = (base.clone(), leads.clone());
        load(seconds, 200, move |client, w, i| {
            client.get(format!(
                "{base}{}/journey",
                leads[(w * 7919 + i * 31) % leads.len()]
            ))
        })
        .await?
    };
    let paced = open_load(JOURNEY_RATE, seconds, 200, move |client, i| {
        client.get(format!("{base}{}/journey", leads[(i * 7919) % leads.len()]))
    })
    .await?;
    drop(service);
    Ok(vec![
        Row {
            what: format!(
                "`POST /v1/touchpoints/bulk`, {count} touchpoints in one NDJSON request ({:.0} MB), durable with their `touchpoint.recorded` outbox rows ({events} outbox rows)",
                bytes as f64 / 1e6
            ),
            result: format!("{rate:.0} touchpoints/s ({secs:.2} s; {ratio:.2}× COPY)"),
            baseline: format!(
                "psql `\\copy` of the same {count} rows into a table with the same indexes: {copy_rate:.0} rows/s ({copy_secs:.2} s)"
            ),
            goal: "≥ 50,000/s and ≥ 0.5× COPY".into(),
            verdict: Verdict::met_if(rate >= 50_000.0 && ratio >= 0.5),
        },
        {
            let mut row = http_row(
                &format!(
                    "`GET /v1/leads/{{id}}/journey`, concurrency {CONCURRENCY}, {seconds} s, 10,000 leads with 50 touches each"
                ),
                &journey,
                "—".into(),
                0.0,
                10.0,
            );
            row.goal = "p99 < 10 ms".into();
            row
        },
        {
            let mut row = http_row(
                &format!(
                    "`GET /v1/leads/{{id}}/journey`, open loop at {JOURNEY_RATE} req/s (a request every {} µs, latency from when it was due), {seconds} s, same leads",
                    1_000_000 / JOURNEY_RATE
                ),
                &paced,
                "—".into(),
                f64::from(JOURNEY_RATE) * 0.99,
                10.0,
            );
            row.goal = format!("p99 < 10 ms at {JOURNEY_RATE} req/s");
            row
        },
    ])
}

/// 1,000 leads created through the leads service, 1M touchpoints for them ingested in
/// four bulk requests of 250,000, and the time from the last ingest response until the
/// leads service has applied every `touchpoint.recorded` (its consumer's committed count,
/// polled from `/metrics`; the inbox is counted once at the end to confirm all 1M ids).
pub async fn end_to_end() -> anyhow::Result<Row> {
    let count = 1_000_000usize;
    let ns = TestNamespace::new();
    let leads_service = {
        let mut settings = ns.settings(leads::SERVICE);
        settings.http.workers = None;
        settings.database.pool_size = 16;
        RunningService::start(leads::definition(), settings).await
    };
    let service = service(&ns).await;
    let client = reqwest::Client::new();
    let leads = create_leads(&leads_service, 7, "e2e", 1000)
        .await?
        .iter()
        .map(|id| uuid::Uuid::parse_str(id))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    for part in 0..4 {
        let body = ndjson(part * count / 4..(part + 1) * count / 4, &leads);
        post_bulk(&client, &service, body).await?;
    }
    let ingest = started.elapsed().as_secs_f64();
    let last_response = Instant::now();
    let consumed = wait_applied(
        &leads_service,
        TOUCHPOINT_RECORDED,
        count as u64,
        Duration::from_secs(120),
    )
    .await?;
    let lag = last_response.elapsed().as_secs_f64();
    let stored = inbox_count(&leads_service, TOUCHPOINT_RECORDED).await?;
    drop(service);
    drop(leads_service);
    let done = consumed >= count as u64 && stored == count as i64;
    Ok(Row {
        what: "1M touchpoints (4 bulk requests of 250,000, 1,000 leads) ingested, then every `touchpoint.recorded` applied by the leads service (in-process, same broker namespace)".into(),
        result: if done {
            format!("all consumed {lag:.1} s after the last ingest response (ingest took {ingest:.1} s)")
        } else {
            format!("{consumed} of {count} consumed after {lag:.0} s (ingest took {ingest:.1} s)")
        },
        baseline: "—".into(),
        goal: "all consumed ≤ 30 s after the last ingest response".into(),
        verdict: Verdict::met_if(done && lag <= 30.0),
    })
}

/// A 1 GB NDJSON file streamed by curl to the release binary; its peak RSS from
/// `/proc/<pid>/status` (VmHWM) while still running.
pub async fn rss_1gb() -> anyhow::Result<Row> {
    let binary = release_binary(touchpoints::SERVICE)?;
    // ~1 KB lines: 1,000,000 of them make the gigabyte.
    let file = std::env::temp_dir().join(format!(
        "touchstone-bench-1gb-{}.ndjson",
        std::process::id()
    ));
    let leads: Vec<uuid::Uuid> = (0..10_000).map(|_| uuid::Uuid::new_v4()).collect();
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let mut buf = Vec::new();
        let mut n = 0;
        let mut written = 0usize;
        while written < 1_000_000_000 {
            buf.clear();
            line(&mut buf, n, &leads, 700);
            w.write_all(&buf)?;
            written += buf.len();
            n += 1;
        }
        w.flush()?;
    }
    let size = std::fs::metadata(&file)?.len();
    let service = ReleaseService::start(&binary, touchpoints::SERVICE).await?;
    let port = service.port;
    let result = async {
        let ready = service.ready(200).await;
        anyhow::ensure!(ready, "the touchpoints binary never became ready");
        let started = Instant::now();
        let out = tokio::process::Command::new("curl")
            .args([
                "-sS",
                "-X",
                "POST",
                "-H",
                "content-type: application/x-ndjson",
                "-T",
            ])
            .arg(&file)
            .arg(format!("http://127.0.0.1:{port}/v1/touchpoints/bulk"))
            .output()
            .await?;
        let secs = started.elapsed().as_secs_f64();
        let response: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| anyhow::anyhow!("curl: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
        Ok::<_, anyhow::Error>((secs, response, service.status_mb("VmHWM")))
    }
    .await;
    service.stop().await;
    let _ = std::fs::remove_file(&file);
    let (secs, response, mb) = result?;
    let inserted = response["inserted"].as_u64().unwrap_or(0);
    Ok(Row {
        what: format!(
            "1 GB NDJSON file ({size} bytes, ~1 KB lines) streamed by curl to `POST /v1/touchpoints/bulk` of the release binary"
        ),
        result: format!(
            "peak RSS {mb:.1} MB; {inserted} inserted, {} rejected in {secs:.1} s ({:.0}/s)",
            response["rejected"],
            inserted as f64 / secs
        ),
        baseline: "—".into(),
        goal: "RSS < 250 MB".into(),
        verdict: Verdict::met_if(
            mb < 250.0 && inserted > 0 && response["rejected"].as_u64() == Some(0),
        ),
    })
}
