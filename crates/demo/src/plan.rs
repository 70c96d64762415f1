//! The story of each demo lead, decided up front from the seed: when it was first seen and
//! identified, how far its B2B deal gets and how it ends, and whether it also buys through
//! the marketing funnel (backdated over the last six months). Touches, deals and campaign
//! budgets are all derived from these plans, so they agree with one another.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::catalog::{self, product};
use crate::{Generator, progress};

pub const B2B_FUNNEL: &str = "00000000-0000-4000-8000-00000000b2b0";
pub const MARKETING_FUNNEL: &str = "00000000-0000-4000-8000-0000000000a1";
pub const B2B_STAGES: [&str; 5] = ["lead", "mql", "sql", "opportunity", "won"];
pub const MARKETING_STAGES: [&str; 6] = [
    "awareness",
    "interest",
    "consideration",
    "intent",
    "evaluation",
    "purchase",
];
pub const LOSS_REASONS: [&str; 5] = [
    "no budget",
    "chose a competitor",
    "no response",
    "bad timing",
    "not a fit",
];
pub const OWNERS: [&str; 4] = ["sam", "kim", "alex", "jo"];
/// How far back the demo's history reaches.
pub const HISTORY_DAYS: i64 = 182;

/// How a deal ends (or does not, yet).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Won(Sale),
    Lost(&'static str),
    Stalled,
}

/// Product lines of a won deal.
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    /// (product key, units).
    pub lines: Vec<(&'static str, u64)>,
    /// Whether the won move names the products (otherwise only the amount).
    pub itemised: bool,
}

impl Sale {
    pub fn cents(&self) -> i64 {
        self.lines
            .iter()
            .map(|(k, u)| product(k).price_cents * *u as i64)
            .sum()
    }
}

/// A deal in the marketing funnel, opened and moved in the past.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketingDeal {
    pub external_id: String,
    pub owner: &'static str,
    pub opened_at: DateTime<Utc>,
    /// Stages after `awareness` it moved to, with when.
    pub moves: Vec<(&'static str, DateTime<Utc>)>,
    pub outcome: Outcome,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// What the deal was expected to be worth when it opened, in cents.
    pub expected_cents: i64,
}

/// Everything the demo does with one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadPlan {
    pub index: usize,
    pub email: String,
    pub anonymous_id: String,
    pub source: String,
    pub campaign_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub identified_at: DateTime<Utc>,
    /// Index in `B2B_STAGES` of the last open stage its lead-driven deal reaches.
    pub b2b_last: usize,
    pub b2b: Outcome,
    pub marketing: Option<MarketingDeal>,
}

impl LeadPlan {
    /// Won value of the lead's deals (both funnels) in cents.
    pub fn won_cents(&self) -> i64 {
        let b2b = match &self.b2b {
            Outcome::Won(s) => s.cents(),
            _ => 0,
        };
        let mkt = match self.marketing.as_ref().map(|m| &m.outcome) {
            Some(Outcome::Won(s)) => s.cents(),
            _ => 0,
        };
        b2b + mkt
    }
}

/// An RNG for one part of one item: plans do not shift when another part changes.
pub fn rng_for(seed: u64, part: u64, i: usize) -> StdRng {
    let mix = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(part.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add((i as u64).wrapping_mul(0x94D0_49BB_1331_11EB));
    StdRng::seed_from_u64(mix)
}

/// A UUID drawn from `rng`: the same seed gives the same ids, so reloading is a no-op.
pub fn uuid(rng: &mut StdRng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn days(rng: &mut StdRng, lo: f64, hi: f64) -> Duration {
    Duration::seconds((rng.random_range(lo..hi) * 86_400.0) as i64)
}

/// The stage the lead's lifecycle moves (from `progress`) push its B2B deal to.
pub fn progress_floor(i: usize) -> usize {
    progress(i)
        .0
        .iter()
        .filter_map(|s| match *s {
            "mql" => Some(1),
            "sql" => Some(2),
            "opportunity" | "customer" => Some(3),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Plans for the first `count` demo leads, relative to `now`.
pub fn plans(seed: u64, count: usize, now: DateTime<Utc>) -> Vec<LeadPlan> {
    let mut generator = Generator::new(seed);
    let mut plans: Vec<LeadPlan> = (0..count)
        .map(|i| plan(seed, i, &generator.lead(i), now))
        .collect();
    // Brand search must have something to break even on, whatever the seed.
    let brand = |p: &LeadPlan| p.campaign_id.as_deref() == Some("cmp-search-brand");
    let brand_wins = plans
        .iter()
        .filter(|p| brand(p) && matches!(p.b2b, Outcome::Won(_)))
        .count();
    for p in plans
        .iter_mut()
        .filter(|p| {
            brand(p) && !matches!(p.b2b, Outcome::Won(_)) && progress(p.index).0 != ["disqualified"]
        })
        .take(3usize.saturating_sub(brand_wins))
    {
        p.b2b_last = 3;
        p.b2b = Outcome::Won(Sale {
            lines: vec![("growth", 1), ("onboarding", 1)],
            itemised: true,
        });
    }
    plans
}

fn plan(seed: u64, i: usize, lead: &Value, now: DateTime<Utc>) -> LeadPlan {
    let mut rng = rng_for(seed, 1, i);
    let text = |k: &str| lead[k].as_str().map(str::to_string);
    let campaign_id = text("campaign_id");
    let paid = campaign_id.is_some();
    let first_seen = now - days(&mut rng, 10.0, HISTORY_DAYS as f64);
    let span = (now - first_seen).num_seconds() as f64 / 86_400.0;
    let identified_at = first_seen + days(&mut rng, 0.2, (span * 0.6).clamp(0.5, 30.0));

    // The lead-driven B2B deal: drop-off at every stage; campaign leads convert a bit better.
    let (b2b_last, b2b) = if progress(i).0 == ["disqualified"] {
        (0, Outcome::Lost("not a fit"))
    } else {
        let advance: [f64; 3] = [0.45, 0.55, 0.6];
        let mut last = 0;
        while last < 3 && rng.random_bool((advance[last] * if paid { 1.25 } else { 1.0 }).min(0.95))
        {
            last += 1;
        }
        let last = last.max(progress_floor(i));
        let won = progress(i).0.contains(&"customer")
            || (last == 3 && rng.random_bool(if paid { 0.5 } else { 0.4 }));
        let outcome = if won {
            Outcome::Won(b2b_sale(&mut rng))
        } else if rng.random_bool(0.7) {
            Outcome::Lost(LOSS_REASONS.choose(&mut rng).expect("non-empty"))
        } else {
            Outcome::Stalled
        };
        (last, outcome)
    };
    let marketing = rng
        .random_bool(0.45)
        .then(|| marketing_deal(seed, i, identified_at, now, &mut rng));
    LeadPlan {
        index: i,
        email: text("email").unwrap_or_default(),
        anonymous_id: text("anonymous_id").unwrap_or_default(),
        source: text("source").unwrap_or_default(),
        campaign_id,
        affiliate_id: text("affiliate_id"),
        first_seen,
        identified_at,
        b2b_last,
        b2b,
        marketing,
    }
}

fn b2b_sale(rng: &mut StdRng) -> Sale {
    let mut lines = match rng.random_range(0..10) {
        0..=4 => vec![("growth", rng.random_range(1..=3))],
        5..=7 => vec![("starter", rng.random_range(2..=6))],
        _ => vec![("enterprise", 1)],
    };
    if rng.random_bool(0.5) {
        lines.push(("onboarding", 1));
    }
    Sale {
        lines,
        itemised: rng.random_bool(0.6),
    }
}

fn marketing_deal(
    seed: u64,
    i: usize,
    identified_at: DateTime<Utc>,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> MarketingDeal {
    let latest = now - Duration::hours(2);
    let opened_at = (identified_at + days(rng, 0.0, 1.5)).min(latest - Duration::hours(1));
    let advance = [0.75, 0.65, 0.6, 0.6, 0.55];
    let mut at = opened_at;
    let mut moves = Vec::new();
    let mut reached = 0;
    while reached < 4 && rng.random_bool(advance[reached]) {
        let next = at + days(rng, 1.0, 9.0);
        if next > latest {
            break;
        }
        reached += 1;
        at = next;
        moves.push((MARKETING_STAGES[reached], at));
    }
    let close = at + days(rng, 1.0, 6.0);
    let (outcome, closed_at) = if close > latest {
        (Outcome::Stalled, None)
    } else if reached == 4 && rng.random_bool(advance[4]) {
        let mut lines = vec![("starter", 1)];
        if rng.random_bool(0.3) {
            lines.push(("onboarding", 1));
        }
        (
            Outcome::Won(Sale {
                lines,
                itemised: rng.random_bool(0.7),
            }),
            Some(close),
        )
    } else if rng.random_bool(0.65) {
        (
            Outcome::Lost(LOSS_REASONS.choose(rng).expect("non-empty")),
            Some(close),
        )
    } else {
        (Outcome::Stalled, None)
    };
    MarketingDeal {
        external_id: format!("demo-{seed}-mkt-{i}"),
        owner: OWNERS.choose(rng).expect("non-empty"),
        opened_at,
        moves,
        outcome,
        closed_at,
        expected_cents: catalog::product("starter").price_cents,
    }
}

/// How a deal was sold: its methodology and its buying group, as the funnel report breaks
/// them down.
#[derive(Debug, Clone, PartialEq)]
pub struct Selling {
    pub methodology: &'static str,
    /// (person, role).
    pub stakeholders: Vec<(&'static str, &'static str)>,
}

impl Selling {
    /// The deal's `methodology` and `stakeholders` as the deal API takes them.
    pub fn fields(&self) -> (Value, Value) {
        let group: Vec<Value> = self
            .stakeholders
            .iter()
            .map(|(person, role)| serde_json::json!({"person": person, "role": role}))
            .collect();
        (Value::from(self.methodology), Value::from(group))
    }
}

/// Which funnel a deal's selling is drawn for: each its own RNG part, so that drawing it
/// shifts nothing else of the plan.
#[derive(Debug, Clone, Copy)]
pub enum SellingOf {
    B2b,
    Marketing,
}

/// How deal `i` was sold, drawn from the seed apart from the rest of its plan, and weighted
/// by its outcome: the story the breakdowns tell is that disciplined methodologies and a
/// buying group with a champion and an economic buyer win more often.
pub fn selling(seed: u64, of: SellingOf, i: usize, outcome: &Outcome) -> Selling {
    let part = match of {
        SellingOf::B2b => 6,
        SellingOf::Marketing => 7,
    };
    let mut rng = rng_for(seed, part, i);
    // Weights of challenger, solution, spin, meddicc, none; champion and economic buyer odds.
    let (weights, champion, buyer) = match outcome {
        Outcome::Won(_) => ([30, 15, 10, 35, 10], 0.85, 0.8),
        Outcome::Lost(_) => ([15, 20, 20, 10, 35], 0.4, 0.3),
        Outcome::Stalled => ([20, 20, 20, 20, 20], 0.6, 0.45),
    };
    const METHODOLOGIES: [&str; 5] = ["challenger", "solution", "spin", "meddicc", "none"];
    let mut pick = rng.random_range(0..weights.iter().sum::<u32>());
    let mut methodology = METHODOLOGIES[4];
    for (m, w) in METHODOLOGIES.iter().zip(weights) {
        if pick < w {
            methodology = m;
            break;
        }
        pick -= w;
    }
    let people = [
        "Ada Byron",
        "Grace Hopper",
        "Alan Turing",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Ken Thompson",
    ];
    let mut stakeholders = Vec::new();
    let mut person = rng.random_range(0..people.len());
    let mut add = |role: &'static str, stakeholders: &mut Vec<(&'static str, &'static str)>| {
        stakeholders.push((people[person % people.len()], role));
        person += 1;
    };
    if rng.random_bool(champion) {
        add("champion", &mut stakeholders);
    }
    if rng.random_bool(buyer) {
        add("economic_buyer", &mut stakeholders);
    }
    for role in ["mobilizer", "talker", "blocker"] {
        if rng.random_bool(0.25) {
            add(role, &mut stakeholders);
        }
    }
    Selling {
        methodology,
        stakeholders,
    }
}

/// Planned won value per campaign id, in cents (what the break-even service will count).
pub fn revenue_by_campaign(plans: &[LeadPlan]) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    for p in plans {
        if let Some(c) = &p.campaign_id {
            *out.entry(c.clone()).or_insert(0) += p.won_cents();
        }
    }
    out
}

/// One deal of the B2B history import: (external id, NDJSON lines in time order).
pub fn history(seed: u64, count: usize, now: DateTime<Utc>) -> Vec<(String, Vec<Value>)> {
    (0..count)
        .map(|k| {
            let mut rng = rng_for(seed, 2, k);
            let external_id = format!("demo-{seed}-hist-{k}");
            let mut attributes = serde_json::Map::new();
            attributes.insert(
                "owner".into(),
                Value::from(*OWNERS.choose(&mut rng).expect("non-empty")),
            );
            let source = *["event", "sdr", "referral", "webinar", "paid_search"]
                .choose(&mut rng)
                .expect("non-empty");
            attributes.insert("source".into(), Value::from(source));
            if rng.random_bool(0.5) {
                let c = catalog::CAMPAIGN_SPECS.choose(&mut rng).expect("non-empty");
                attributes.insert("campaign".into(), Value::from(c.id));
            }
            let latest = now - Duration::days(2);
            let mut at = now - days(&mut rng, 40.0, HISTORY_DAYS as f64);
            let mut lines = vec![serde_json::json!({
                "external_id": external_id, "stage": "lead", "at": at, "attributes": attributes,
            })];
            let advance = [0.5, 0.55, 0.6, 0.45];
            let mut stage = 0;
            while stage < 4 && rng.random_bool(advance[stage]) {
                let next = at + days(&mut rng, 3.0, 25.0);
                if next > latest {
                    break;
                }
                stage += 1;
                at = next;
                lines.push(serde_json::json!({
                    "external_id": external_id, "stage": B2B_STAGES[stage], "at": at,
                }));
            }
            let close = at + days(&mut rng, 2.0, 20.0);
            if stage < 4 && close <= latest && rng.random_bool(0.75) {
                lines.push(serde_json::json!({
                    "external_id": external_id, "stage": "lost", "at": close,
                    "reason": *LOSS_REASONS.choose(&mut rng).expect("non-empty"),
                }));
            }
            (external_id, lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn plans_are_deterministic_and_in_the_past() {
        let a = plans(42, 300, now());
        assert_eq!(a, plans(42, 300, now()));
        assert_ne!(a, plans(43, 300, now()));
        for p in &a {
            assert!(p.first_seen <= p.identified_at && p.identified_at < now());
            assert!(p.b2b_last >= progress_floor(p.index));
            if let Some(m) = &p.marketing {
                let mut last = m.opened_at;
                for (_, at) in &m.moves {
                    assert!(*at > last && *at < now());
                    last = *at;
                }
                if let Some(c) = m.closed_at {
                    assert!(c > last && c < now());
                }
            }
        }
    }

    #[test]
    fn most_deals_drop_off_and_some_are_won() {
        let a = plans(42, 300, now());
        let won = a
            .iter()
            .filter(|p| matches!(p.b2b, Outcome::Won(_)))
            .count();
        let lost = a
            .iter()
            .filter(|p| matches!(p.b2b, Outcome::Lost(_)))
            .count();
        assert!(won > 5 && won < 60, "{won}");
        assert!(lost > won * 2, "{lost}");
        let mkt_won = a
            .iter()
            .filter(|p| {
                matches!(
                    p.marketing.as_ref().map(|m| &m.outcome),
                    Some(Outcome::Won(_))
                )
            })
            .count();
        assert!(mkt_won > 0);
        assert!(revenue_by_campaign(&a)["cmp-search-brand"] > 0);
    }

    #[test]
    fn selling_is_deterministic_and_wins_have_fuller_buying_groups() {
        let a = plans(42, 300, now());
        let sold = |p: &LeadPlan| selling(42, SellingOf::B2b, p.index, &p.b2b);
        assert_eq!(
            a.iter().map(sold).collect::<Vec<_>>(),
            a.iter().map(sold).collect::<Vec<_>>()
        );
        let covered = |won: bool| {
            let deals: Vec<Selling> = a
                .iter()
                .filter(|p| matches!(p.b2b, Outcome::Won(_)) == won)
                .map(sold)
                .collect();
            let n = deals
                .iter()
                .filter(|s| {
                    let has = |r| s.stakeholders.iter().any(|(_, role)| *role == r);
                    has("champion") && has("economic_buyer")
                })
                .count();
            n as f64 / deals.len() as f64
        };
        assert!(covered(true) > covered(false) + 0.2);
        let methodologies: std::collections::BTreeSet<&str> =
            a.iter().map(|p| sold(p).methodology).collect();
        assert_eq!(methodologies.len(), 5, "{methodologies:?}");
    }

    #[test]
    fn history_lines_move_forward_in_time() {
        for (_, lines) in history(42, 40, now()) {
            let times: Vec<DateTime<Utc>> = lines
                .iter()
                .map(|l| serde_json::from_value(l["at"].clone()).unwrap())
                .collect();
            assert!(times.windows(2).all(|w| w[0] < w[1]));
            assert!(*times.last().unwrap() < now());
        }
    }
}
