//! Funnel deals: the backdated B2B history, the marketing deals, and the moves of the B2B
//! deals that `lead.created` opened. The marketing deals open with their methodology and
//! stakeholders; the B2B deals get theirs by a PATCH before they move.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::http::{base, eight_at_a_time, post_each, post_ndjson, send, tally};
use crate::LoadReport;
use crate::catalog::{self, CURRENCY};
use crate::plan::{
    self, B2B_FUNNEL, B2B_STAGES, LeadPlan, MARKETING_FUNNEL, MarketingDeal, Outcome, Sale,
    Selling, SellingOf,
};

/// Deals in the B2B history import.
const HISTORY_DEALS: usize = 60;

/// Backdated B2B history as NDJSON. On a rerun every line is refused as already applied
/// (the deal is already in that stage at that time) and counted as already there.
pub(super) async fn load_history(
    client: &reqwest::Client,
    url: &str,
    seed: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<LoadReport> {
    let lines = plan::history(seed, HISTORY_DEALS, now)
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .map(|l| l.to_string());
    let (status, r) = post_ndjson(
        client,
        format!("{}/v1/funnels/{B2B_FUNNEL}/events", base(url)),
        lines,
    )
    .await?;
    let mut report = LoadReport::default();
    if status != 200 {
        tally(&mut report, status, "history import", &r);
        return Ok(report);
    }
    report.created = r["accepted"].as_u64().unwrap_or(0) as usize;
    report.already_there = r["rejected"].as_u64().unwrap_or(0) as usize;
    Ok(report)
}

fn won_move(
    sale: &Sale,
    at: Option<DateTime<Utc>>,
    stage: &str,
    products: &HashMap<&'static str, String>,
) -> Value {
    let mut body = json!({
        "to_stage": stage,
        "amount": catalog::cents(sale.cents()),
        "currency": CURRENCY,
        "reason": "signed",
    });
    if let Some(at) = at {
        body["at"] = json!(at);
    }
    let lines: Option<Vec<Value>> = sale
        .lines
        .iter()
        .map(|(k, units)| {
            Some(json!({
                "product_id": products.get(k)?,
                "units": units,
                "amount": catalog::cents(catalog::product(k).price_cents * *units as i64),
            }))
        })
        .collect();
    if let (true, Some(lines)) = (sale.itemised, lines) {
        body["products"] = json!(lines);
    }
    body
}

fn closing_move(
    outcome: &Outcome,
    at: Option<DateTime<Utc>>,
    won_stage: &str,
    products: &HashMap<&'static str, String>,
) -> Option<Value> {
    let mut body = match outcome {
        Outcome::Won(sale) => return Some(won_move(sale, at, won_stage, products)),
        Outcome::Lost(reason) => json!({"to_stage": "lost", "reason": reason}),
        Outcome::Stalled => return None,
    };
    if let Some(at) = at {
        body["at"] = json!(at);
    }
    Some(body)
}

/// Opens one backdated marketing deal and replays its moves; a deal already there
/// (its external id) is left alone.
async fn marketing_deal(
    client: &reqwest::Client,
    url: &str,
    seed: u64,
    p: &LeadPlan,
    m: &MarketingDeal,
    lead_id: Option<&String>,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    let mut attributes = json!({"source": p.source});
    if let Some(c) = &p.campaign_id {
        attributes["campaign"] = json!(c);
    }
    let selling = plan::selling(seed, SellingOf::Marketing, p.index, &m.outcome);
    let (methodology, stakeholders) = selling.fields();
    let body = json!({
        "funnel_id": MARKETING_FUNNEL,
        "methodology": methodology,
        "stakeholders": stakeholders,
        "external_id": m.external_id,
        "lead_id": lead_id,
        "campaign_id": p.campaign_id,
        "amount": catalog::cents(m.expected_cents),
        "currency": CURRENCY,
        "owner": m.owner,
        "opened_at": m.opened_at,
        "attributes": attributes,
    });
    let (status, r) = send(client.post(format!("{}/v1/deals", base(url))).json(&body)).await?;
    tally(&mut report, status, "marketing deal", &r);
    let Some(id) = r["id"].as_str().filter(|_| status == 201) else {
        return Ok(report);
    };
    let moves = format!("{}/v1/deals/{id}/transitions", base(url));
    let mut bodies: Vec<Value> = m
        .moves
        .iter()
        .map(|(stage, at)| json!({"to_stage": stage, "at": at}))
        .collect();
    bodies.extend(closing_move(&m.outcome, m.closed_at, "purchase", products));
    post_each(client, &moves, bodies, "marketing move", &mut report).await?;
    Ok(report)
}

pub(super) async fn load_marketing_deals(
    client: &reqwest::Client,
    url: &str,
    seed: u64,
    plans: &[LeadPlan],
    lead_ids: &HashMap<usize, String>,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    eight_at_a_time(plans.iter().filter_map(|p| {
        let m = p.marketing.as_ref()?;
        Some(marketing_deal(
            client,
            url,
            seed,
            p,
            m,
            lead_ids.get(&p.index),
            products,
        ))
    }))
    .await
}

/// Every deal of a funnel (all pages).
pub(super) async fn funnel_deals(
    client: &reqwest::Client,
    url: &str,
    funnel: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = client
            .get(format!("{}/v1/deals", base(url)))
            .query(&[("funnel_id", funnel), ("limit", "500")]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let (status, body) = send(req).await?;
        anyhow::ensure!(status == 200, "GET /v1/deals: HTTP {status} {body}");
        out.extend(body["items"].as_array().into_iter().flatten().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(out),
        }
    }
}

fn stage_index(stage: &str) -> Option<usize> {
    B2B_STAGES.iter().position(|s| *s == stage)
}

/// Waits until `lead.created` has opened a B2B deal for every demo lead and the lifecycle
/// moves have reached them, then returns the deals by lead id.
async fn settled_b2b_deals(
    client: &reqwest::Client,
    url: &str,
    plans: &[LeadPlan],
    lead_ids: &HashMap<usize, String>,
) -> anyhow::Result<HashMap<String, Value>> {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(90);
    loop {
        let deals: HashMap<String, Value> = funnel_deals(client, url, B2B_FUNNEL)
            .await?
            .into_iter()
            .filter_map(|d| Some((d["lead_id"].as_str()?.to_string(), d)))
            .collect();
        let waiting = plans
            .iter()
            .filter(|p| {
                let Some(lead) = lead_ids.get(&p.index) else {
                    return false;
                };
                match deals.get(lead) {
                    None => true,
                    Some(d) => {
                        d["status"] == "open"
                            && stage_index(d["stage"].as_str().unwrap_or("")).unwrap_or(0)
                                < plan::progress_floor(p.index)
                    }
                }
            })
            .count();
        if waiting == 0 || std::time::Instant::now() > deadline {
            if waiting > 0 {
                println!(
                    "[demo] funnel: {waiting} B2B deals still missing or behind their leads; moving the rest"
                );
            }
            return Ok(deals);
        }
        tokio::time::sleep(StdDuration::from_millis(750)).await;
    }
}

/// Moves each demo lead's B2B deal on from where it is to its planned last stage, then
/// wins or loses it. Closed deals (a rerun) are left alone.
pub(super) async fn move_b2b_deals(
    client: &reqwest::Client,
    url: &str,
    seed: u64,
    plans: &[LeadPlan],
    lead_ids: &HashMap<usize, String>,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    let deals = settled_b2b_deals(client, url, plans, lead_ids).await?;
    eight_at_a_time(
        plans
            .iter()
            .filter_map(|p| Some((p, deals.get(lead_ids.get(&p.index)?)?)))
            .map(|(p, deal)| {
                let selling = plan::selling(seed, SellingOf::B2b, p.index, &p.b2b);
                move_b2b_deal(client, url, p, deal, selling, products)
            }),
    )
    .await
}

/// Sets a B2B deal's methodology and stakeholders with a PATCH under the version it was
/// read at; a lead event that moved it since (412) is retried once at the version the
/// problem names. Counted only when it fails: the deal is not new, and the counts of a
/// load stay what they were before deals carried a methodology.
async fn sell_b2b_deal(
    client: &reqwest::Client,
    url: &str,
    d: &Value,
    selling: &Selling,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    let id = d["id"].as_str().unwrap_or_default();
    let (methodology, stakeholders) = selling.fields();
    let body = json!({"methodology": methodology, "stakeholders": stakeholders});
    let mut etag = format!("\"{}\"", d["version"].as_i64().unwrap_or(1));
    for _ in 0..2 {
        let (status, r) = send(
            client
                .patch(format!("{}/v1/deals/{id}", base(url)))
                .header("if-match", &etag)
                .json(&body),
        )
        .await?;
        match (status, r["current_etag"].as_str()) {
            (200, _) => return Ok(()),
            (412, Some(current)) => etag = current.to_string(),
            _ => {
                tally(report, status, "B2B deal methodology", &r);
                return Ok(());
            }
        }
    }
    tally(report, 412, "B2B deal methodology", &Value::Null);
    Ok(())
}

/// Moves one B2B deal on to the lead's planned last stage and closes it as planned.
async fn move_b2b_deal(
    client: &reqwest::Client,
    url: &str,
    p: &LeadPlan,
    d: &Value,
    selling: Selling,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    if d["status"] != "open" {
        report.already_there += 1;
        return Ok(report);
    }
    sell_b2b_deal(client, url, d, &selling, &mut report).await?;
    let id = d["id"].as_str().unwrap_or_default();
    let moves = format!("{}/v1/deals/{id}/transitions", base(url));
    let here = stage_index(d["stage"].as_str().unwrap_or("")).unwrap_or(0);
    let mut bodies: Vec<Value> = ((here + 1)..=p.b2b_last.max(here))
        .map(|s| json!({"to_stage": B2B_STAGES[s]}))
        .collect();
    bodies.extend(closing_move(&p.b2b, None, "won", products));
    if bodies.is_empty() {
        report.already_there += 1;
    }
    post_each(client, &moves, bodies, "B2B move", &mut report).await?;
    Ok(report)
}
