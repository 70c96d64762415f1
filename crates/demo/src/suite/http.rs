//! The HTTP calls every loader makes, and how their answers are counted.

use futures::StreamExt;
use serde_json::Value;

use crate::LoadReport;

pub(super) fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

pub(crate) fn tally(report: &mut LoadReport, status: u16, what: &str, body: &Value) {
    match status {
        200 | 201 => report.created += 1,
        409 => report.already_there += 1,
        _ => {
            if report.failed < 3 {
                eprintln!("[demo] {what}: HTTP {status} {body}");
            }
            report.failed += 1
        }
    }
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
    let r = req.send().await?;
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Replaces the resource at `url` with `body` as of its current state, as a client that
/// has just read it: `If-Match` with the ETag a GET answers, or `If-None-Match: *` when
/// the resource does not exist yet (the API's concurrency rule, docs/api-conventions.md).
pub(crate) async fn put_as_read(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let read = client.get(url).send().await?;
    let etag = read
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let put = client.put(url).json(body);
    let put = match (read.status().as_u16(), etag) {
        (404, _) => put.header("if-none-match", "*"),
        (_, Some(etag)) => put.header("if-match", etag),
        (status, None) => anyhow::bail!("GET {url}: {status} without an ETag"),
    };
    send(put).await
}

pub(super) async fn ready(client: &reqwest::Client, url: &str) -> bool {
    client
        .get(format!("{}/health/ready", base(url)))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Posts `lines` as NDJSON, one line each.
pub(super) async fn post_ndjson(
    client: &reqwest::Client,
    url: String,
    lines: impl IntoIterator<Item = String>,
) -> anyhow::Result<(u16, Value)> {
    let mut body = String::new();
    for line in lines {
        body.push_str(&line);
        body.push('\n');
    }
    send(
        client
            .post(url)
            .header("content-type", "application/x-ndjson")
            .body(body),
    )
    .await
}

/// Posts each body to `url` in turn, counting the answers as `what`.
pub(super) async fn post_each(
    client: &reqwest::Client,
    url: &str,
    bodies: Vec<Value>,
    what: &str,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    for body in bodies {
        let (status, r) = send(client.post(url).json(&body)).await?;
        tally(report, status, what, &r);
    }
    Ok(())
}

/// Runs the loads eight at a time and adds up their reports; the first error wins.
pub(super) async fn eight_at_a_time(
    loads: impl IntoIterator<Item = impl Future<Output = anyhow::Result<LoadReport>>>,
) -> anyhow::Result<LoadReport> {
    let results: Vec<anyhow::Result<LoadReport>> = futures::stream::iter(loads)
        .buffer_unordered(8)
        .collect()
        .await;
    let mut report = LoadReport::default();
    for r in results {
        report += r?;
    }
    Ok(report)
}
