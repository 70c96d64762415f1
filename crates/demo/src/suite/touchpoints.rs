//! Touchpoints: affiliates and the touches of the planned journeys.

use super::http::{base, post_ndjson, put_as_read, tally};
use crate::journeys::Touch;
use crate::{LoadReport, catalog};

pub(super) async fn load_affiliates(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    for (id, terms) in catalog::affiliates() {
        let url = format!("{}/v1/affiliates/{id}", base(url));
        let (status, r) = put_as_read(client, &url, &terms).await?;
        match status {
            201 => report.created += 1,
            200 => report.already_there += 1,
            _ => tally(&mut report, status, "affiliate", &r),
        }
    }
    Ok(report)
}

pub(super) async fn load_touches(
    client: &reqwest::Client,
    url: &str,
    touches: &[Touch],
) -> anyhow::Result<LoadReport> {
    let (status, r) = post_ndjson(
        client,
        format!("{}/v1/touchpoints/bulk", base(url)),
        touches.iter().map(|t| t.to_json().to_string()),
    )
    .await?;
    let mut report = LoadReport::default();
    if status != 200 {
        tally(&mut report, status, "touchpoints bulk", &r);
        return Ok(report);
    }
    let n = |k: &str| r[k].as_u64().unwrap_or(0) as usize;
    report.created = n("inserted");
    report.already_there = n("duplicates");
    report.failed = n("rejected");
    if report.failed > 0 {
        eprintln!("[demo] touchpoints bulk rejected lines: {}", r["errors"]);
    }
    Ok(report)
}
