//! The closing summary: what each service now holds, and requests to try.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Urls;
use super::funnel::funnel_deals;
use super::http::{base, send};
use crate::catalog;
use crate::journeys::{self, Touch};
use crate::plan::{B2B_FUNNEL, LeadPlan, MARKETING_FUNNEL, Outcome};

fn count_by(deals: &[Value], key: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in deals {
        *out.entry(d[key].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    out
}

pub(super) async fn summary(
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
        println!(
            "  curl -s {}/v1/funnels/{B2B_FUNNEL}/report?breakdown=stakeholder_coverage&format=csv&part=segment_summary'",
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
