//! The invariants, read from the public APIs only once the load has stopped: every effect the
//! load asked for is there exactly once, and the dead-letter queues hold the poison messages
//! and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::faults::FaultLog;
use crate::load::{CHANNEL, Ledger, SERVICES, Setup, Suite, TOUCH_TYPE};

/// Dead letters by service: (message id, reason).
pub type DeadLetters = BTreeMap<&'static str, Vec<(String, String)>>;

/// What each service's DLQ holds now (read without removing anything).
pub async fn dead_letters() -> anyhow::Result<DeadLetters> {
    let mut out = DeadLetters::new();
    for (service, _) in SERVICES {
        let settings = platform::Settings::defaults(service);
        let letters = platform::bus::dlq::peek(&settings.bus, service, 100_000).await?;
        out.insert(
            service,
            letters
                .into_iter()
                .map(|l| {
                    (
                        l.message_id.unwrap_or_default(),
                        l.reason.unwrap_or_default(),
                    )
                })
                .collect(),
        );
    }
    Ok(out)
}

/// One invariant: what the load asked for, what the suite shows.
pub struct Check {
    pub name: &'static str,
    pub expected: String,
    pub observed: String,
    /// Effects asked for and missing.
    pub lost: u64,
    /// Effects there more often than asked for.
    pub doubled: u64,
}

pub struct Outcome {
    pub checks: Vec<Check>,
    /// Seconds after the load until every invariant held (`None`: not within the limit).
    pub settled_after: Option<f64>,
    /// Dead letters that are not the run's poison messages (or poison where it should not be).
    pub unexpected_dead_letters: Vec<String>,
    /// Poison messages missing from a DLQ they should be in.
    pub missing_poison: Vec<String>,
    pub poison_found: usize,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.settled_after.is_some()
            && self.checks.iter().all(|c| c.lost == 0 && c.doubled == 0)
            && self.unexpected_dead_letters.is_empty()
            && self.missing_poison.is_empty()
    }
}

/// Checks the invariants until they all hold or `within` passes.
pub async fn settle(
    suite: &Suite,
    ledger: &Ledger,
    setup: &Setup,
    before: &DeadLetters,
    faults: &FaultLog,
    within: Duration,
) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    suite.wait_ready(within).await?;
    let points = click_points(suite).await?;
    loop {
        let checks = vec![
            deals(suite, ledger).await?,
            spend(suite, ledger, setup).await?,
            revenue(suite, ledger, setup).await?,
            engagement(suite, ledger, setup, points).await?,
        ];
        let held = checks.iter().all(|c| c.lost == 0 && c.doubled == 0);
        if held || start.elapsed() > within {
            let (unexpected, missing, found) = dead_letter_check(before, faults).await?;
            return Ok(Outcome {
                checks,
                settled_after: held.then(|| start.elapsed().as_secs_f64()),
                unexpected_dead_letters: unexpected,
                missing_poison: missing,
                poison_found: found,
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Every lead the load created has exactly one deal in the funnel.
async fn deals(suite: &Suite, ledger: &Ledger) -> anyhow::Result<Check> {
    let leads: BTreeSet<Uuid> = ledger.lead_ids().into_iter().collect();
    let mut per_lead: BTreeMap<Uuid, u64> = BTreeMap::new();
    for deal in all_items(suite, "funnel", "/v1/deals").await? {
        if let Some(lead) = deal["lead_id"].as_str().and_then(|s| s.parse().ok())
            && leads.contains(&lead)
        {
            *per_lead.entry(lead).or_default() += 1;
        }
    }
    let lost = leads.iter().filter(|l| !per_lead.contains_key(l)).count() as u64;
    let doubled = per_lead.values().map(|n| n.saturating_sub(1)).sum();
    Ok(Check {
        name: "one deal per lead created (lead.created → funnel)",
        expected: format!("{} deals", leads.len()),
        observed: format!("{} deals", per_lead.values().sum::<u64>()),
        lost,
        doubled,
    })
}

/// Every campaign's spend in breakeven is the sum of its touches' costs sent to
/// touchpoints (touchpoint.recorded → breakeven).
async fn spend(suite: &Suite, ledger: &Ledger, setup: &Setup) -> anyhow::Result<Check> {
    let expected = ledger.inner.lock().expect("ledger").spend.clone();
    let (mut lost, mut doubled) = (0, 0);
    let (mut want, mut seen) = (Decimal::ZERO, Decimal::ZERO);
    for campaign in &setup.campaigns {
        let body = get_ok(
            suite,
            "breakeven",
            &format!("/v1/campaigns/{campaign}/breakeven"),
        )
        .await?;
        let observed = decimal(&body["spend"]);
        let asked = expected.get(campaign).copied().unwrap_or_default();
        want += asked;
        seen += observed;
        if observed < asked {
            lost += 1;
        } else if observed > asked {
            doubled += 1;
        }
    }
    Ok(Check {
        name: "campaign spend = the sum of its touch costs (touchpoint.recorded → breakeven)",
        expected: format!("{want} EUR over {} campaigns", setup.campaigns.len()),
        observed: format!(
            "{seen} EUR (campaigns off: {} short, {} over)",
            lost, doubled
        ),
        lost,
        doubled,
    })
}

/// Every won deal counts once in break-even revenue: the campaigns' attributed revenue adds
/// up to the amounts won (deal.won → touchpoints → conversion.attributed → breakeven, or
/// deal.won alone for a deal with no touch).
async fn revenue(suite: &Suite, ledger: &Ledger, setup: &Setup) -> anyhow::Result<Check> {
    let won = ledger.inner.lock().expect("ledger").won.clone();
    let want: Decimal = won.values().copied().sum();
    let mut seen = Decimal::ZERO;
    for campaign in &setup.campaigns {
        let body = get_ok(
            suite,
            "breakeven",
            &format!("/v1/campaigns/{campaign}/breakeven"),
        )
        .await?;
        seen += decimal(&body["attributed_revenue"]);
    }
    // Amounts are drawn between 100.00 and 5,000.00: a difference of a deal's amount or more
    // is a lost or doubled deal; the count is the difference over the mean amount, rounded.
    let mean = if won.is_empty() {
        Decimal::ONE
    } else {
        want / Decimal::from(won.len())
    };
    let deals_off = |d: Decimal| -> u64 {
        if d <= Decimal::ZERO {
            0
        } else {
            ((d / mean).round().max(Decimal::ONE))
                .try_into()
                .unwrap_or(u64::MAX)
        }
    };
    Ok(Check {
        name: "won deals count once in break-even revenue (deal.won → … → breakeven)",
        expected: format!("{want} EUR from {} won deals", won.len()),
        observed: format!("{seen} EUR"),
        lost: deals_off(want - seen),
        doubled: deals_off(seen - want),
    })
}

/// Every lead's engagement reflects exactly the touches sent for it
/// (touchpoint.recorded → leads): all touches occurred at one instant, so a lead's
/// engagement now is its touch count × the model's points for a paid-search click × the
/// decay since then.
async fn engagement(
    suite: &Suite,
    ledger: &Ledger,
    setup: &Setup,
    points: f64,
) -> anyhow::Result<Check> {
    let touches = ledger.inner.lock().expect("ledger").touches.clone();
    let leads = ledger.lead_ids();
    let (mut lost, mut doubled, mut observed_touches) = (0u64, 0u64, 0f64);
    for lead in &leads {
        let sent = f64::from(touches.get(lead).copied().unwrap_or(0));
        let body = get_ok(suite, "leads", &format!("/v1/leads/{lead}/score")).await?;
        let at = Utc::now();
        let half_life = body["half_life_days"].as_f64().unwrap_or(30.0);
        let age_days = (at - setup.touched_at).num_milliseconds() as f64 / 86_400_000.0;
        let per_touch = points * 0.5f64.powf(age_days / half_life);
        let seen = body["engagement_score"].as_f64().unwrap_or(0.0) / per_touch;
        observed_touches += seen;
        // Touch counts are whole: half a touch of difference is a touch.
        let diff = seen - sent;
        if diff < -0.5 {
            lost += (-diff).round() as u64;
        } else if diff > 0.5 {
            doubled += diff.round() as u64;
        }
    }
    let sent: u32 = touches.values().sum();
    Ok(Check {
        name: "lead engagement = the touches sent for the lead (touchpoint.recorded → leads)",
        expected: format!("{sent} touches on {} leads", leads.len()),
        observed: format!("{observed_touches:.2} touches' worth of engagement"),
        lost,
        doubled,
    })
}

/// The points the scoring model gives a paid-search click, as the leads service reads its
/// model (an entry for the exact channel wins over one for any channel).
async fn click_points(suite: &Suite) -> anyhow::Result<f64> {
    let body = get_ok(suite, "leads", "/v1/scoring-model").await?;
    let entries = body["model"]["engagement_points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let of_type = entries.iter().filter(|e| {
        e["touch_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(TOUCH_TYPE))
    });
    let mut any = None;
    for e in of_type {
        match e["channel"].as_str() {
            Some(c) if c.eq_ignore_ascii_case(CHANNEL) => {
                return e["points"]
                    .as_f64()
                    .ok_or_else(|| anyhow::anyhow!("no points"));
            }
            Some(_) => {}
            None => any = any.or(e["points"].as_f64()),
        }
    }
    let points = any.unwrap_or(0.0);
    anyhow::ensure!(
        points > 0.0,
        "the scoring model gives a {CHANNEL} {TOUCH_TYPE} no points: engagement cannot be checked"
    );
    Ok(points)
}

/// The DLQs now against before the run: every poison message in the DLQ of each service
/// that consumes its routing key, with a reason, and nothing else new.
async fn dead_letter_check(
    before: &DeadLetters,
    faults: &FaultLog,
) -> anyhow::Result<(Vec<String>, Vec<String>, usize)> {
    let now = dead_letters().await?;
    let mut unexpected = Vec::new();
    let mut missing = Vec::new();
    let mut found = 0;
    for (service, letters) in &now {
        let old: BTreeSet<&String> = before
            .get(service)
            .map(|l| l.iter().map(|(id, _)| id).collect())
            .unwrap_or_default();
        for (id, reason) in letters {
            if old.contains(id) {
                continue;
            }
            let poison = faults
                .poison
                .iter()
                .find(|p| &p.message_id == id && p.consumers.contains(service));
            match poison {
                Some(_) if !reason.is_empty() => found += 1,
                _ => unexpected.push(format!("{service}: {id} ({reason})")),
            }
        }
    }
    for p in &faults.poison {
        for service in &p.consumers {
            let there = now
                .get(service)
                .is_some_and(|l| l.iter().any(|(id, _)| id == &p.message_id));
            if !there {
                missing.push(format!(
                    "{} ({}) not in {service}'s DLQ",
                    p.message_id, p.what
                ));
            }
        }
    }
    Ok((unexpected, missing, found))
}

/// Every item of a paged collection.
async fn all_items(suite: &Suite, service: &str, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}?limit=500&cursor={c}"),
            None => format!("{path}?limit=500"),
        };
        let page = get_ok(suite, service, &page_path).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(items),
        }
    }
}

async fn get_ok(suite: &Suite, service: &str, path: &str) -> anyhow::Result<Value> {
    let answer = suite
        .get(service, path)
        .await
        .ok_or_else(|| anyhow::anyhow!("GET {path} on {service}: no instance answered"))?;
    anyhow::ensure!(
        answer.status == 200,
        "GET {path} on {service}: {} {}",
        answer.status,
        answer.body
    );
    Ok(answer.body)
}

fn decimal(v: &Value) -> Decimal {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}
