//! Loads the whole suite through the public REST APIs, in the order the data depends on:
//! break-even products and fixed costs, accounts and leads, campaigns (budgets from the
//! touches' spend), affiliates and touches, then deals (history import, backdated
//! marketing deals, and the moves of the B2B deals that `lead.created` opened), and
//! finally a summary of what each service now holds. Reruns find their data already
//! there (fixed ids and external ids; 409s and duplicates are counted, not failures).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::catalog::{self, CAMPAIGN_SPECS, CURRENCY, CampaignSpec, FIXED_COSTS, PRODUCTS};
use crate::journeys::{self, Touch};
use crate::plan::{
    self, B2B_FUNNEL, B2B_STAGES, LeadPlan, MARKETING_FUNNEL, MarketingDeal, Outcome, Sale,
};
use crate::{LoadReport, load_accounts, load_leads_with_ids, load_progress};

/// Base URLs of the four services.
#[derive(Debug, Clone)]
pub struct Urls {
    pub leads: String,
    pub funnel: String,
    pub touchpoints: String,
    pub breakeven: String,
    /// Where users reach the suite (the gateway); the closing hints use it, with the API
    /// key as `$KEY`. Without it they name the services themselves.
    pub public: Option<String>,
}

/// Deals in the B2B history import.
const HISTORY_DEALS: usize = 60;

/// What one step did, for the summary.
#[derive(Debug, Clone)]
pub struct Step {
    pub service: &'static str,
    pub what: &'static str,
    pub report: LoadReport,
}

#[derive(Debug, Default)]
pub struct Outcomes {
    pub steps: Vec<Step>,
}

impl Outcomes {
    fn add(&mut self, service: &'static str, what: &'static str, report: LoadReport) {
        println!(
            "[demo] {service:<11} {what}: {} created, {} already there, {} failed",
            report.created, report.already_there, report.failed
        );
        self.steps.push(Step {
            service,
            what,
            report,
        });
    }

    pub fn failed(&self) -> usize {
        self.steps.iter().map(|s| s.report.failed).sum()
    }
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

fn tally(report: &mut LoadReport, status: u16, what: &str, body: &Value) {
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

async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
    let r = req.send().await?;
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

async fn ready(client: &reqwest::Client, url: &str) -> bool {
    client
        .get(format!("{}/health/ready", base(url)))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Loads everything and prints a summary. Services that are not up are skipped.
pub async fn load(urls: &Urls, seed: u64, leads: usize) -> anyhow::Result<Outcomes> {
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(120))
        .build()?;
    let now = Utc::now();
    let mut out = Outcomes::default();
    let up = |name: &'static str, url: &str| {
        let client = client.clone();
        let url = url.to_string();
        async move {
            let ok = ready(&client, &url).await;
            if !ok {
                println!("[demo] {name} is not running at {url}: skipping its data");
            }
            ok
        }
    };
    let leads_up = up("leads", &urls.leads).await;
    let funnel_up = up("funnel", &urls.funnel).await;
    let touchpoints_up = up("touchpoints", &urls.touchpoints).await;
    let breakeven_up = up("breakeven", &urls.breakeven).await;

    let plans = plan::plans(seed, leads, now);
    let touches = journeys::touches(seed, &plans, now);

    let mut products = HashMap::new();
    if breakeven_up {
        let (report, ids) = load_products(&client, &urls.breakeven).await?;
        out.add("breakeven", "products", report);
        products = ids;
        out.add(
            "breakeven",
            "fixed costs",
            load_fixed_costs(&client, &urls.breakeven).await?,
        );
        out.add(
            "breakeven",
            "campaigns",
            load_campaigns(&client, &urls.breakeven, &products, &plans, &touches, now).await?,
        );
    }

    let mut lead_ids = Vec::new();
    if leads_up {
        out.add("leads", "accounts", load_accounts(&urls.leads).await?);
        let (report, ids) = load_leads_with_ids(&urls.leads, seed, leads).await?;
        out.add("leads", "leads", report);
        out.add(
            "leads",
            "lifecycle moves and MEDDICC cards",
            load_progress(&urls.leads, &ids).await?,
        );
        lead_ids = ids;
    }

    if touchpoints_up {
        out.add(
            "touchpoints",
            "affiliates",
            load_affiliates(&client, &urls.touchpoints).await?,
        );
        out.add(
            "touchpoints",
            "touches",
            load_touches(&client, &urls.touchpoints, &touches).await?,
        );
    }

    if funnel_up {
        out.add(
            "funnel",
            "B2B history import (lines)",
            load_history(&client, &urls.funnel, seed, now).await?,
        );
        let ids: HashMap<usize, String> = lead_ids.iter().cloned().collect();
        out.add(
            "funnel",
            "marketing deals (backdated)",
            load_marketing_deals(&client, &urls.funnel, &plans, &ids, &products).await?,
        );
        if leads_up {
            out.add(
                "funnel",
                "B2B deal moves",
                move_b2b_deals(&client, &urls.funnel, &plans, &ids, &products).await?,
            );
        }
    }

    let mut spend = journeys::spend_by_campaign(&touches);
    if breakeven_up && touchpoints_up {
        out.add(
            "touchpoints",
            "top-up spend of campaigns that crossed",
            top_up(&client, urls, seed, now, &products, &mut spend).await?,
        );
    }
    let rows = if breakeven_up {
        settled_breakeven(&client, &urls.breakeven, &spend).await?
    } else {
        Vec::new()
    };
    summary(
        &client,
        urls,
        &plans,
        &lead_ids,
        &touches,
        &rows,
        [funnel_up, touchpoints_up],
    )
    .await?;
    Ok(out)
}

// ---- break-even -------------------------------------------------------------------------

async fn by_name(client: &reqwest::Client, url: &str) -> anyhow::Result<HashMap<String, String>> {
    let (_, body) = send(client.get(url)).await?;
    Ok(body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some((
                i["name"].as_str()?.to_string(),
                i["id"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// Creates the products not there yet (matched by name); returns their ids by demo key.
async fn load_products(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(LoadReport, HashMap<&'static str, String>)> {
    let list = format!("{}/v1/products", base(url));
    let existing = by_name(client, &list).await?;
    let mut report = LoadReport::default();
    let mut ids = HashMap::new();
    for p in PRODUCTS {
        if let Some(id) = existing.get(p.name) {
            report.already_there += 1;
            ids.insert(p.key, id.clone());
            continue;
        }
        let body = json!({
            "name": p.name,
            "price": catalog::cents(p.price_cents),
            "variable_cost": catalog::cents(p.variable_cost_cents),
            "currency": CURRENCY,
        });
        let (status, r) = send(client.post(&list).json(&body)).await?;
        tally(&mut report, status, "product", &r);
        if let Some(id) = r["id"].as_str() {
            ids.insert(p.key, id.to_string());
        }
    }
    Ok((report, ids))
}

async fn load_fixed_costs(client: &reqwest::Client, url: &str) -> anyhow::Result<LoadReport> {
    let list = format!("{}/v1/fixed-costs", base(url));
    let existing = by_name(client, &list).await?;
    let mut report = LoadReport::default();
    for (name, amount, period) in FIXED_COSTS {
        if existing.contains_key(name) {
            report.already_there += 1;
            continue;
        }
        let body = json!({"name": name, "amount": amount, "period": period, "currency": CURRENCY});
        let (status, r) = send(client.post(&list).json(&body)).await?;
        tally(&mut report, status, "fixed cost", &r);
    }
    Ok(report)
}

/// Budget in cents: the touches' spend over the campaign's budget share, in whole hundreds.
pub fn budget_cents(spend_micros: i64, share: f64) -> i64 {
    let cents = spend_micros as f64 / 10_000.0 / share;
    ((cents / 10_000.0).ceil() as i64) * 10_000
}

fn campaign_body(c: &CampaignSpec, budget: i64, mix: Vec<Value>, now: DateTime<Utc>) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "budget": catalog::cents(budget),
        "currency": CURRENCY,
        "starts_on": (now - Duration::days(plan::HISTORY_DAYS + 1)).date_naive(),
        "ends_on": (now + Duration::days(30)).date_naive(),
        "product_mix": mix,
    })
}

/// Creates the campaigns (or replaces them on a rerun) with budgets matching the touches.
async fn load_campaigns(
    client: &reqwest::Client,
    url: &str,
    products: &HashMap<&'static str, String>,
    plans: &[LeadPlan],
    touches: &[Touch],
    now: DateTime<Utc>,
) -> anyhow::Result<LoadReport> {
    let spend = journeys::spend_by_campaign(touches);
    let revenue = plan::revenue_by_campaign(plans);
    let mut report = LoadReport::default();
    for c in CAMPAIGN_SPECS {
        // A campaign that crosses is budgeted for the spend it will be topped up to.
        let planned = if c.crosses() {
            let cents = *revenue.get(c.id).unwrap_or(&0) as f64;
            (cents * c.margin_ratio() * c.spend_to_contribution) as i64 * 10_000
        } else {
            0
        };
        let spend = planned.max(*spend.get(c.id).unwrap_or(&0));
        let mix: Option<Vec<Value>> = c
            .mix
            .iter()
            .map(|(k, share)| Some(json!({"product_id": products.get(k)?, "share": share})))
            .collect();
        let Some(mix) = mix else {
            report.failed += 1;
            continue;
        };
        let body = campaign_body(&c, budget_cents(spend, c.budget_share), mix, now);
        let (status, r) = send(
            client
                .post(format!("{}/v1/campaigns", base(url)))
                .json(&body),
        )
        .await?;
        if status == 409 {
            let (status, r) = send(
                client
                    .put(format!("{}/v1/campaigns/{}", base(url), c.id))
                    .json(&body),
            )
            .await?;
            if status == 200 {
                report.already_there += 1;
            } else {
                tally(&mut report, status, "campaign", &r);
            }
        } else {
            tally(&mut report, status, "campaign", &r);
        }
    }
    Ok(report)
}

// ---- touchpoints ------------------------------------------------------------------------

async fn load_affiliates(client: &reqwest::Client, url: &str) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    for (id, terms) in catalog::affiliates() {
        let (status, r) = send(
            client
                .put(format!("{}/v1/affiliates/{id}", base(url)))
                .json(&terms),
        )
        .await?;
        match status {
            201 => report.created += 1,
            200 => report.already_there += 1,
            _ => tally(&mut report, status, "affiliate", &r),
        }
    }
    Ok(report)
}

async fn load_touches(
    client: &reqwest::Client,
    url: &str,
    touches: &[Touch],
) -> anyhow::Result<LoadReport> {
    let mut body = String::with_capacity(touches.len() * 300);
    for t in touches {
        body.push_str(&t.to_json().to_string());
        body.push('\n');
    }
    let (status, r) = send(
        client
            .post(format!("{}/v1/touchpoints/bulk", base(url)))
            .header("content-type", "application/x-ndjson")
            .body(body),
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

// ---- funnel -----------------------------------------------------------------------------

/// Backdated B2B history as NDJSON. On a rerun every line is refused as already applied
/// (the deal is already in that stage at that time) and counted as already there.
async fn load_history(
    client: &reqwest::Client,
    url: &str,
    seed: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<LoadReport> {
    let mut body = String::new();
    for (_, lines) in plan::history(seed, HISTORY_DEALS, now) {
        for l in lines {
            body.push_str(&l.to_string());
            body.push('\n');
        }
    }
    let (status, r) = send(
        client
            .post(format!("{}/v1/funnels/{B2B_FUNNEL}/events", base(url)))
            .header("content-type", "application/x-ndjson")
            .body(body),
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
    let body = json!({
        "funnel_id": MARKETING_FUNNEL,
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
    for b in bodies {
        let (status, r) = send(client.post(&moves).json(&b)).await?;
        tally(&mut report, status, "marketing move", &r);
    }
    Ok(report)
}

async fn load_marketing_deals(
    client: &reqwest::Client,
    url: &str,
    plans: &[LeadPlan],
    lead_ids: &HashMap<usize, String>,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    let results: Vec<anyhow::Result<LoadReport>> = futures::stream::iter(
        plans
            .iter()
            .filter_map(|p| p.marketing.as_ref().map(|m| (p, m))),
    )
    .map(|(p, m)| marketing_deal(client, url, p, m, lead_ids.get(&p.index), products))
    .buffer_unordered(8)
    .collect()
    .await;
    let mut report = LoadReport::default();
    for r in results {
        let r = r?;
        report.created += r.created;
        report.already_there += r.already_there;
        report.failed += r.failed;
    }
    Ok(report)
}

/// Every deal of a funnel (all pages).
async fn funnel_deals(
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
async fn move_b2b_deals(
    client: &reqwest::Client,
    url: &str,
    plans: &[LeadPlan],
    lead_ids: &HashMap<usize, String>,
    products: &HashMap<&'static str, String>,
) -> anyhow::Result<LoadReport> {
    let deals = settled_b2b_deals(client, url, plans, lead_ids).await?;
    let jobs: Vec<(&LeadPlan, &Value)> = plans
        .iter()
        .filter_map(|p| Some((p, deals.get(lead_ids.get(&p.index)?)?)))
        .collect();
    let results: Vec<anyhow::Result<LoadReport>> = futures::stream::iter(jobs)
        .map(|(p, d)| async move {
            let mut report = LoadReport::default();
            if d["status"] != "open" {
                report.already_there += 1;
                return Ok(report);
            }
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
            for b in bodies {
                let (status, r) = send(client.post(&moves).json(&b)).await?;
                tally(&mut report, status, "B2B move", &r);
            }
            Ok(report)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut report = LoadReport::default();
    for r in results {
        let r = r?;
        report.created += r.created;
        report.already_there += r.already_there;
        report.failed += r.failed;
    }
    Ok(report)
}

// ---- break-even tracking ----------------------------------------------------------------

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
async fn settled_breakeven(
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
async fn top_up(
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
        let (status, r) = send(
            client
                .put(format!("{}/v1/campaigns/{}", base(&urls.breakeven), c.id))
                .json(&body),
        )
        .await?;
        if status != 200 {
            tally(&mut report, status, "campaign budget", &r);
        }
    }
    if extra.is_empty() {
        report.already_there += 1;
        return Ok(report);
    }
    let r = load_touches(client, &urls.touchpoints, &extra).await?;
    report.created += r.created;
    report.already_there += r.already_there;
    report.failed += r.failed;
    Ok(report)
}

// ---- summary ----------------------------------------------------------------------------

fn count_by(deals: &[Value], key: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in deals {
        *out.entry(d[key].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    out
}

async fn summary(
    client: &reqwest::Client,
    urls: &Urls,
    plans: &[LeadPlan],
    lead_ids: &[(usize, String)],
    touches: &[Touch],
    rows: &[(&'static str, Value)],
    [funnel_up, touchpoints_up]: [bool; 2],
) -> anyhow::Result<()> {
    println!("\n[demo] summary");
    println!(
        "  leads        {} leads (seed data), {} accounts",
        lead_ids.len(),
        crate::COMPANIES.len()
    );
    let mut b2b = Vec::new();
    if funnel_up {
        b2b = funnel_deals(client, &urls.funnel, B2B_FUNNEL).await?;
        let mkt = funnel_deals(client, &urls.funnel, MARKETING_FUNNEL).await?;
        for (name, deals) in [("B2B", &b2b), ("Marketing", &mkt)] {
            println!(
                "  funnel       {name}: {} deals, by status {:?}, by stage {:?}",
                deals.len(),
                count_by(deals, "status"),
                count_by(deals, "stage")
            );
        }
    }
    if touchpoints_up {
        let spend: i64 = journeys::spend_by_campaign(touches).values().sum();
        println!(
            "  touchpoints  {} touches before top-ups ({} of anonymous visitors), EUR {} paid spend before top-ups, {} affiliates",
            touches.len(),
            touches
                .iter()
                .filter(|t| t
                    .anonymous_id
                    .as_deref()
                    .is_some_and(|a| a.starts_with("anon-v-")))
                .count(),
            catalog::micros(spend),
            catalog::affiliates().len()
        );
    }
    if !rows.is_empty() {
        for (id, b) in rows {
            println!(
                "  breakeven    {id:<21} spend {:>10} of budget {:>10}  revenue {:>10}  ROAS {:>8} (break-even {:>8})  {}",
                b["spend"].as_str().unwrap_or("-"),
                b["budget"].as_str().unwrap_or("-"),
                b["attributed_revenue"].as_str().unwrap_or("-"),
                b["roas"].as_str().unwrap_or("-"),
                b["breakeven_roas"].as_str().unwrap_or("-"),
                if b["breakeven_reached"] == true {
                    "break-even reached"
                } else if b["at_risk"] == true {
                    "AT RISK"
                } else {
                    ""
                }
            );
        }
    }
    // A lead with a won B2B deal makes the best journey example.
    let won_lead = plans
        .iter()
        .filter(|p| matches!(p.b2b, Outcome::Won(_)) && p.campaign_id.is_some())
        .find_map(|p| lead_ids.iter().find(|(i, _)| *i == p.index))
        .map(|(_, id)| id.clone())
        .or_else(|| {
            b2b.iter()
                .find(|d| d["status"] == "won")
                .and_then(|d| d["lead_id"].as_str().map(str::to_string))
        });
    // The hints name the gateway, with the key, when there is one.
    let at = |service_url: &str| match &urls.public {
        Some(public) => format!("-H \"Authorization: Bearer $KEY\" '{}", base(public)),
        None => format!("'{}", base(service_url)),
    };
    println!("\nTry:");
    if funnel_up {
        println!(
            "  curl -s {}/v1/funnels/{B2B_FUNNEL}/report?breakdown=campaign'",
            at(&urls.funnel)
        );
        println!(
            "  curl -s {}/v1/funnels/{MARKETING_FUNNEL}/report?cohort=month&format=csv'",
            at(&urls.funnel)
        );
    }
    if touchpoints_up {
        if let Some(lead) = &won_lead {
            println!(
                "  curl -s {}/v1/leads/{lead}/journey'",
                at(&urls.touchpoints)
            );
        }
        println!(
            "  curl -s {}/v1/reports/campaign-performance?format=csv'",
            at(&urls.touchpoints)
        );
        if let Some(path) = attribution_path(client, &urls.touchpoints, won_lead.as_deref()).await {
            println!("  curl -s {}{path}'", at(&urls.touchpoints));
        } else {
            println!("  (no attribution comparison endpoint in touchpoints yet)");
        }
    }
    if !rows.is_empty() {
        println!(
            "  curl -s {}/v1/campaigns/cmp-search-brand/breakeven'",
            at(&urls.breakeven)
        );
        println!(
            "  curl -s {}/v1/reports/campaign-profitability?format=csv'",
            at(&urls.breakeven)
        );
    }
    Ok(())
}

/// A GET path about attribution that the touchpoints service answers, if it has one.
async fn attribution_path(
    client: &reqwest::Client,
    url: &str,
    lead: Option<&str>,
) -> Option<String> {
    let (_, doc) = send(client.get(format!("{}/openapi.json", base(url))))
        .await
        .ok()?;
    let paths = doc["paths"].as_object()?;
    // A comparison of models is the most telling; pictures are for browsers.
    let mut candidates: Vec<&String> = paths
        .iter()
        .filter(|(p, item)| {
            p.contains("attribution") && !p.ends_with(".svg") && item.get("get").is_some()
        })
        .map(|(p, _)| p)
        .collect();
    candidates.sort_by_key(|p| (!p.contains("comparison"), p.contains('{')));
    for path in candidates {
        let concrete = match (path.contains('{'), lead) {
            (false, _) => path.clone(),
            (true, Some(lead)) => {
                let open = path.find('{')?;
                let close = path[open..].find('}')? + open;
                format!("{}{lead}{}", &path[..open], &path[close + 1..])
            }
            (true, None) => continue,
        };
        if concrete.contains('{') {
            continue;
        }
        let ok = client
            .get(format!("{}{concrete}", base(url)))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Some(concrete);
        }
    }
    None
}
