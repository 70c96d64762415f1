//! Multi-channel journeys for the demo leads (anonymous touches first, then identified
//! ones from the moment a form names the person), plus anonymous visitors who never
//! convert. Paid impressions and clicks carry costs, scaled per campaign to the spend the
//! campaign's story calls for (see `catalog::CampaignSpec`).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::catalog::{self, CAMPAIGN_SPECS, CURRENCY, SPEND_FLOOR_CENTS};
use crate::plan::{self, HISTORY_DAYS, LeadPlan, rng_for, uuid};

/// One touch, before costs are scaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub channel: &'static str,
    pub kind: &'static str,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub email: Option<String>,
    pub affiliate_id: Option<String>,
    /// Millionths of a euro.
    pub cost_micros: Option<i64>,
}

impl Touch {
    /// A line of `POST /v1/touchpoints/bulk`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "occurred_at": self.at,
            "channel": self.channel,
            "type": self.kind,
        });
        let mut set = |k: &str, x: &Option<String>| {
            if let Some(x) = x {
                v[k] = json!(x);
            }
        };
        set("campaign_id", &self.campaign_id);
        set("anonymous_id", &self.anonymous_id);
        set("email", &self.email);
        set("affiliate_id", &self.affiliate_id);
        if let Some(c) = &self.campaign_id {
            v["utm_campaign"] = json!(c);
            v["utm_medium"] = json!(utm_medium(self.channel));
        }
        if let Some(m) = self.cost_micros {
            v["cost"] = json!(catalog::micros(m));
            v["currency"] = json!(CURRENCY);
        }
        v
    }
}

fn utm_medium(channel: &str) -> &'static str {
    match channel {
        "paid_search" => "cpc",
        "paid_social" => "paid_social",
        "display" => "display",
        "email" => "email",
        _ => "referral",
    }
}

/// The channel and type of the touch that identifies a lead from a given source.
fn identifying_touch(source: &str) -> (&'static str, &'static str) {
    match source {
        "organic_search" => ("organic_search", "form_submit"),
        "content" => ("content", "download"),
        "webinar" => ("webinar", "form_submit"),
        "referral" => ("referral", "form_submit"),
        "sdr" => ("sales_call", "call"),
        "event" => ("event", "form_submit"),
        "affiliate" => ("affiliate", "form_submit"),
        "paid_search" => ("paid_search", "form_submit"),
        "paid_social" => ("paid_social", "form_submit"),
        "programmatic_display" => ("display", "form_submit"),
        _ => ("direct", "form_submit"),
    }
}

/// Raw cost of a paid touch in millionths of a euro, before scaling.
fn raw_cost(rng: &mut StdRng, channel: &str, kind: &str) -> Option<i64> {
    let range = match (channel, kind) {
        ("paid_search", "click") => 1_500_000..4_500_000,
        ("paid_social", "click") => 500_000..2_000_000,
        ("display", "click") => 300_000..1_000_000,
        ("paid_social", "impression" | "viewable_impression") => 5_000..10_000,
        ("display", "impression" | "viewable_impression") => 3_000..12_000,
        _ => return None,
    };
    Some(rng.random_range(range))
}

struct Builder<'a> {
    rng: StdRng,
    out: &'a mut Vec<Touch>,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: DateTime<Utc>,
        channel: &'static str,
        kind: &'static str,
        campaign_id: Option<&str>,
        anonymous_id: Option<&str>,
        email: Option<&str>,
        affiliate_id: Option<&str>,
    ) {
        let cost_micros = campaign_id.and_then(|_| raw_cost(&mut self.rng, channel, kind));
        self.out.push(Touch {
            id: uuid(&mut self.rng),
            at,
            channel,
            kind,
            campaign_id: campaign_id.map(str::to_string),
            anonymous_id: anonymous_id.map(str::to_string),
            email: email.map(str::to_string),
            affiliate_id: affiliate_id.map(str::to_string),
            cost_micros,
        });
    }

    /// A paid exposure: impressions and a click on a campaign's channel.
    fn campaign_touch(&mut self, at: DateTime<Utc>, campaign: &str, anon: &str, click: bool) {
        let channel = catalog::campaign(campaign).map_or("display", |c| c.channel);
        if channel != "paid_search" {
            let shown = self.rng.random_range(1..=4);
            for k in 0..shown {
                let kind = if self.rng.random_bool(0.6) {
                    "viewable_impression"
                } else {
                    "impression"
                };
                let when = at - Duration::minutes(30 * (shown - k));
                self.push(when, channel, kind, Some(campaign), Some(anon), None, None);
            }
        }
        if click || channel == "paid_search" {
            self.push(at, channel, "click", Some(campaign), Some(anon), None, None);
        }
    }
}

fn between(rng: &mut StdRng, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    let span = (b - a).num_seconds().max(1);
    a + Duration::seconds(rng.random_range(0..span))
}

/// Touches of one lead's journey.
pub fn lead_touches(seed: u64, p: &LeadPlan, now: DateTime<Utc>, out: &mut Vec<Touch>) {
    let mut b = Builder {
        rng: rng_for(seed, 3, p.index),
        out,
    };
    let anon = p.anonymous_id.as_str();
    let email = p.email.as_str();
    let campaign = p.campaign_id.as_deref();
    // Anonymous phase: paid exposure for campaign leads, organic discovery for the rest.
    let n = b.rng.random_range(2..=6);
    let mut times: Vec<DateTime<Utc>> = (0..n)
        .map(|_| between(&mut b.rng, p.first_seen, p.identified_at))
        .collect();
    times.sort();
    for at in times {
        match campaign {
            Some(c) if b.rng.random_bool(0.6) => {
                let click = b.rng.random_bool(0.5);
                b.campaign_touch(at, c, anon, click)
            }
            _ => {
                let (channel, kind) = *[
                    ("organic_search", "visit"),
                    ("direct", "visit"),
                    ("social_organic", "visit"),
                    ("referral", "visit"),
                    ("content", "page_view"),
                ]
                .choose(&mut b.rng)
                .expect("non-empty");
                b.push(at, channel, kind, None, Some(anon), None, None);
            }
        }
    }
    if let Some(a) = p.affiliate_id.as_deref() {
        let at = p.identified_at - Duration::minutes(b.rng.random_range(5..600));
        b.push(at, "affiliate", "click", None, Some(anon), None, Some(a));
    }
    if let Some(c) = campaign {
        // The click that brought them to the form.
        b.campaign_touch(p.identified_at - Duration::minutes(3), c, anon, true);
    }
    // Identification: the anonymous id and the email meet in one touch.
    let (channel, kind) = identifying_touch(&p.source);
    let affiliate = (channel == "affiliate")
        .then_some(p.affiliate_id.as_deref())
        .flatten();
    let (channel, affiliate) = if channel == "affiliate" && affiliate.is_none() {
        ("direct", None)
    } else {
        (channel, affiliate)
    };
    b.push(
        p.identified_at,
        channel,
        kind,
        campaign.filter(|_| channel != "sales_call"),
        Some(anon),
        Some(email),
        affiliate,
    );
    // Identified phase: nurture emails, return visits, and sales meetings for deals that
    // got as far as SQL.
    let end = now - Duration::hours(1);
    let n = b.rng.random_range(2..=8);
    for _ in 0..n {
        let at = between(&mut b.rng, p.identified_at, end);
        match b.rng.random_range(0..10) {
            0..=3 => b.push(at, "email", "email_open", None, None, Some(email), None),
            4..=5 => b.push(at, "email", "email_click", None, None, Some(email), None),
            6..=7 => b.push(
                at,
                "direct",
                "page_view",
                None,
                Some(anon),
                Some(email),
                None,
            ),
            8 => b.push(
                at,
                "content",
                "download",
                None,
                Some(anon),
                Some(email),
                None,
            ),
            _ => match campaign {
                Some(c) => {
                    let click = b.rng.random_bool(0.3);
                    b.campaign_touch(at, c, anon, click)
                }
                None => b.push(at, "webinar", "visit", None, None, Some(email), None),
            },
        }
    }
    for k in 0..p.b2b_last.saturating_sub(1) {
        let at =
            end - Duration::days(3 * k as i64 + 1) - Duration::hours(b.rng.random_range(0..20));
        if at > p.identified_at {
            b.push(at, "sales_call", "meeting", None, None, Some(email), None);
        }
    }
}

/// Anonymous visitors reached by a campaign who never became leads.
pub fn visitor_touches(seed: u64, now: DateTime<Utc>, per_campaign: usize, out: &mut Vec<Touch>) {
    for (c, spec) in CAMPAIGN_SPECS.iter().enumerate() {
        for k in 0..per_campaign {
            let mut b = Builder {
                rng: rng_for(seed, 4, c * 100_000 + k),
                out,
            };
            let anon = format!("anon-v-{seed}-{c}-{k}");
            let at = now - Duration::seconds(b.rng.random_range(3_600..HISTORY_DAYS * 86_400));
            let click = b.rng.random_bool(0.25);
            b.campaign_touch(at, spec.id, &anon, click);
            if click && b.rng.random_bool(0.5) {
                b.push(
                    at + Duration::seconds(20),
                    "direct",
                    "page_view",
                    None,
                    Some(&anon),
                    None,
                    None,
                );
            }
        }
    }
}

/// Spend per campaign in millionths of a euro.
pub fn spend_by_campaign(touches: &[Touch]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for t in touches {
        if let (Some(c), Some(m)) = (&t.campaign_id, t.cost_micros) {
            *out.entry(c.clone()).or_insert(0) += m;
        }
    }
    out
}

/// Spend of a campaign that has not crossed yet, over its planned contribution.
const OPENING_SPEND_SHARE: f64 = 0.1;

/// The spend each campaign starts with, in millionths: a campaign that stays under
/// break-even spends `spend_to_contribution` times the contribution of all its leads' won
/// deals; one that crosses spends a tenth of that contribution and is topped up later.
pub fn spend_targets(plans: &[LeadPlan]) -> BTreeMap<String, i64> {
    let revenue = plan::revenue_by_campaign(plans);
    CAMPAIGN_SPECS
        .iter()
        .map(|c| {
            let r = *revenue.get(c.id).unwrap_or(&0) as f64;
            let k = if c.crosses() {
                OPENING_SPEND_SHARE
            } else {
                c.spend_to_contribution
            };
            // A plan figure, not stored money: rounded to whole cents before use.
            let cents = (r * c.margin_ratio() * k).round() as i64;
            let floor = if c.crosses() {
                SPEND_FLOOR_CENTS / 5
            } else {
                SPEND_FLOOR_CENTS
            };
            (c.id.to_string(), cents.max(floor) * 10_000)
        })
        .collect()
}

/// Extra paid impressions and clicks that bring a campaign's spend up by `micros`.
pub fn top_up(seed: u64, campaign: usize, micros: i64, now: DateTime<Utc>) -> Vec<Touch> {
    let spec = &CAMPAIGN_SPECS[campaign];
    let mut out = Vec::new();
    for k in 0..60 {
        let mut b = Builder {
            rng: rng_for(seed, 5, campaign * 100_000 + k),
            out: &mut out,
        };
        let anon = format!("anon-t-{seed}-{campaign}-{k}");
        let at = now - Duration::seconds(b.rng.random_range(600..30 * 86_400));
        b.campaign_touch(at, spec.id, &anon, true);
    }
    scale_costs(&mut out, &BTreeMap::from([(spec.id.to_string(), micros)]));
    out
}

/// Scales every campaign's costs so that they sum to its target (exactly, in millionths).
pub fn scale_costs(touches: &mut [Touch], targets: &BTreeMap<String, i64>) {
    let raw = spend_by_campaign(touches);
    let mut left = targets.clone();
    let mut remaining = raw.clone();
    for t in touches.iter_mut() {
        let (Some(c), Some(m)) = (&t.campaign_id, t.cost_micros) else {
            continue;
        };
        let (Some(target_left), Some(raw_left)) = (left.get_mut(c), remaining.get_mut(c)) else {
            continue;
        };
        // Proportional share of what is left, so rounding never drifts from the target.
        let share = if *raw_left == m {
            *target_left
        } else {
            (m as i128 * *target_left as i128 / *raw_left as i128) as i64
        };
        *raw_left -= m;
        *target_left -= share;
        t.cost_micros = Some(share);
    }
}

/// All demo touches with their final costs, in time order.
pub fn touches(seed: u64, plans: &[LeadPlan], now: DateTime<Utc>) -> Vec<Touch> {
    let mut out = Vec::new();
    for p in plans {
        lead_touches(seed, p, now, &mut out);
    }
    visitor_touches(seed, now, 120, &mut out);
    scale_costs(&mut out, &spend_targets(plans));
    out.sort_by_key(|t| (t.at, t.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plans;

    #[test]
    fn costs_sum_to_targets_and_journeys_start_anonymous() {
        let now: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
        let ps = plans(42, 300, now);
        let ts = touches(42, &ps, now);
        assert_eq!(ts, touches(42, &ps, now));
        assert_eq!(spend_by_campaign(&ts), spend_targets(&ps));
        for p in &ps {
            let mine: Vec<&Touch> = ts
                .iter()
                .filter(|t| {
                    t.anonymous_id.as_deref() == Some(&p.anonymous_id)
                        || t.email.as_deref() == Some(&p.email)
                })
                .collect();
            assert!(mine.len() >= 4);
            assert!(mine[0].email.is_none(), "the first touch is anonymous");
            assert!(mine.iter().all(|t| t.at < now));
        }
        let ids: std::collections::HashSet<_> = ts.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), ts.len());
    }
}
