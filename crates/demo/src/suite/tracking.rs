//! Break-even tracking: waiting for the spend and revenue events to settle, and topping up
//! the spend of the campaigns planned to cross.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Urls;
use super::breakeven::{budget_cents, campaign_body};
use super::http::{base, put_as_read, send, tally};
use super::touchpoints::load_touches;
use crate::LoadReport;
use crate::catalog::{self, CAMPAIGN_SPECS};
use crate::journeys;

async fn breakeven_rows(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<Vec<(&'static str, Value)>> {
    let mut rows = Vec::new();
    for c in CAMPAIGN_SPECS {
        let (_, b) =
            send(client.get(format!("{}/v1/campaigns/{}/breakeven", base(url), c.id))).await?;
        rows.push((c.id, b));
    }
    Ok(rows)
}

/// Campaign break-even once the spend has arrived and revenue has stopped changing
/// (both come as events), or after a minute.
pub(super) async fn settled_breakeven(
    client: &reqwest::Client,
    url: &str,
    spend: &BTreeMap<String, i64>,
) -> anyhow::Result<Vec<(&'static str, Value)>> {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    let mut last = None;
    let mut steady = 0;
    loop {
        let rows = breakeven_rows(client, url).await?;
        let spend_in = rows.iter().all(|(id, b)| {
            b["spend"].as_str().and_then(catalog::parse_micros) == spend.get(*id).copied()
        });
        let revenue: Vec<Value> = rows
            .iter()
            .map(|(_, b)| b["attributed_revenue"].clone())
            .collect();
        steady = if last.as_ref() == Some(&revenue) {
            steady + 1
        } else {
            0
        };
        if (spend_in && steady >= 2) || std::time::Instant::now() > deadline {
            return Ok(rows);
        }
        last = Some(revenue);
        tokio::time::sleep(StdDuration::from_millis(1500)).await;
    }
}

/// Brings each crossing campaign's spend up to `spend_to_contribution` of the contribution
/// it was actually credited, and its budget in line with that spend. A rerun finds
/// nothing left to add.
pub(super) async fn top_up(
    client: &reqwest::Client,
    urls: &Urls,
    seed: u64,
    now: DateTime<Utc>,
    products: &HashMap<&'static str, String>,
    spend: &mut BTreeMap<String, i64>,
) -> anyhow::Result<LoadReport> {
    let rows = settled_breakeven(client, &urls.breakeven, spend).await?;
    let mut report = LoadReport::default();
    let mut extra = Vec::new();
    for (ci, c) in CAMPAIGN_SPECS
        .iter()
        .enumerate()
        .filter(|(_, c)| c.crosses())
    {
        let Some((_, b)) = rows.iter().find(|(id, _)| *id == c.id) else {
            continue;
        };
        let revenue = b["attributed_revenue"]
            .as_str()
            .and_then(catalog::parse_micros)
            .unwrap_or(0);
        let now_spent = b["spend"]
            .as_str()
            .and_then(catalog::parse_micros)
            .unwrap_or(0);
        // A plan figure: rounded to whole cents.
        let target = ((revenue as f64 / 10_000.0) * c.margin_ratio() * c.spend_to_contribution)
            .round() as i64
            * 10_000;
        let add = target - now_spent;
        if add > 1_000_000 {
            extra.extend(journeys::top_up(seed, ci, add, now));
            *spend.entry(c.id.to_string()).or_insert(0) += add;
        }
        let mix: Vec<Value> = c
            .mix
            .iter()
            .filter_map(|(k, share)| Some(json!({"product_id": products.get(k)?, "share": share})))
            .collect();
        let budget = budget_cents(now_spent.max(target), c.budget_share);
        let body = campaign_body(c, budget, mix, now);
        let url = format!("{}/v1/campaigns/{}", base(&urls.breakeven), c.id);
        let (status, r) = put_as_read(client, &url, &body).await?;
        if status != 200 {
            tally(&mut report, status, "campaign budget", &r);
        }
    }
    if extra.is_empty() {
        report.already_there += 1;
        return Ok(report);
    }
    report += load_touches(client, &urls.touchpoints, &extra).await?;
    Ok(report)
}
