//! Loads the whole suite through the public REST APIs, in the order the data depends on:
//! break-even products and fixed costs, accounts and leads, campaigns (budgets from the
//! touches' spend), affiliates and touches, then deals (history import, backdated
//! marketing deals, and the moves of the B2B deals that `lead.created` opened), and
//! finally a summary of what each service now holds. Reruns find their data already
//! there (fixed ids and external ids; 409s and duplicates are counted, not failures).

mod breakeven;
mod funnel;
pub(crate) mod http;
mod summary;
mod touchpoints;
mod tracking;

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::Utc;

use crate::{LoadReport, journeys, load_accounts, load_leads_with_ids, load_progress, plan};

pub use breakeven::budget_cents;

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
            let ok = http::ready(&client, &url).await;
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
        let (report, ids) = breakeven::load_products(&client, &urls.breakeven).await?;
        out.add("breakeven", "products", report);
        products = ids;
        out.add(
            "breakeven",
            "fixed costs",
            breakeven::load_fixed_costs(&client, &urls.breakeven).await?,
        );
        out.add(
            "breakeven",
            "scenarios",
            breakeven::load_scenarios(&client, &urls.breakeven).await?,
        );
        out.add(
            "breakeven",
            "campaigns",
            breakeven::load_campaigns(&client, &urls.breakeven, &products, &plans, &touches, now)
                .await?,
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
            touchpoints::load_affiliates(&client, &urls.touchpoints).await?,
        );
        out.add(
            "touchpoints",
            "touches",
            touchpoints::load_touches(&client, &urls.touchpoints, &touches).await?,
        );
    }

    if funnel_up {
        out.add(
            "funnel",
            "B2B history import (lines)",
            funnel::load_history(&client, &urls.funnel, seed, now).await?,
        );
        let ids: HashMap<usize, String> = lead_ids.iter().cloned().collect();
        out.add(
            "funnel",
            "marketing deals (backdated)",
            funnel::load_marketing_deals(&client, &urls.funnel, seed, &plans, &ids, &products)
                .await?,
        );
        if leads_up {
            out.add(
                "funnel",
                "B2B deal moves",
                funnel::move_b2b_deals(&client, &urls.funnel, seed, &plans, &ids, &products)
                    .await?,
            );
        }
    }

    let mut spend = journeys::spend_by_campaign(&touches);
    if breakeven_up && touchpoints_up {
        out.add(
            "touchpoints",
            "top-up spend of campaigns that crossed",
            tracking::top_up(&client, urls, seed, now, &products, &mut spend).await?,
        );
    }
    let rows = if breakeven_up {
        tracking::settled_breakeven(&client, &urls.breakeven, &spend).await?
    } else {
        Vec::new()
    };
    summary::summary(
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
