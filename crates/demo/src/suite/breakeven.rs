//! Break-even's catalogue: products, fixed costs and campaigns with their budgets.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::http::{base, put_as_read, send, tally};
use crate::LoadReport;
use crate::catalog::{self, CAMPAIGN_SPECS, CURRENCY, CampaignSpec, FIXED_COSTS, PRODUCTS};
use crate::journeys::{self, Touch};
use crate::plan::{self, LeadPlan};

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
pub(super) async fn load_products(
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

pub(super) async fn load_fixed_costs(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<LoadReport> {
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

/// Two what-if scenarios of the Growth plan over one month's salaries and retainer: at list
/// price, and at a 15% discount (matched by name, so a rerun adds none).
pub(super) async fn load_scenarios(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<LoadReport> {
    let list = format!("{}/v1/scenarios", base(url));
    let existing = by_name(client, &list).await?;
    let mut report = LoadReport::default();
    let growth = PRODUCTS.iter().find(|p| p.key == "growth").expect("growth");
    for (name, percent_off) in [("Growth at list price", 0), ("Growth at 15% off", 15)] {
        if existing.contains_key(name) {
            report.already_there += 1;
            continue;
        }
        let price = growth.price_cents * (100 - percent_off) / 100;
        let body = json!({"name": name, "inputs": {
            "currency": CURRENCY,
            "price": catalog::cents(price),
            "variable_cost": catalog::cents(growth.variable_cost_cents),
            "fixed_costs": "91000.00",
            "planned_units": "12",
        }});
        let (status, r) = send(client.post(&list).json(&body)).await?;
        tally(&mut report, status, "scenario", &r);
    }
    Ok(report)
}

/// Budget in cents: the touches' spend over the campaign's budget share, in whole hundreds.
pub fn budget_cents(spend_micros: i64, share: f64) -> i64 {
    let cents = spend_micros as f64 / 10_000.0 / share;
    ((cents / 10_000.0).ceil() as i64) * 10_000
}

pub(super) fn campaign_body(
    c: &CampaignSpec,
    budget: i64,
    mix: Vec<Value>,
    now: DateTime<Utc>,
) -> Value {
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
pub(super) async fn load_campaigns(
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
            let url = format!("{}/v1/campaigns/{}", base(url), c.id);
            let (status, r) = put_as_read(client, &url, &body).await?;
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
