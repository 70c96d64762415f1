//! Deterministic demo data: the same seed always gives the same accounts and leads. It is
//! loaded through the services' public REST APIs, never into their databases directly,
//! and the benchmarks draw their inputs from it too. `suite::load` fills all four services:
//! leads here, the rest from the plans in `plan`, `journeys` and `catalog`.

pub mod catalog;
pub mod journeys;
pub mod plan;
pub mod suite;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Linus",
    "Radia",
    "Ken",
    "Frances",
    "Dennis",
    "Hedy",
    "Tim",
    "Shafi",
    "Leslie",
    "Annie",
    "John",
    "Mary",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Torvalds",
    "Perlman",
    "Thompson",
    "Allen",
    "Ritchie",
    "Lamarr",
    "Berners-Lee",
    "Goldwasser",
    "Lamport",
    "Easley",
    "McCarthy",
    "Keller",
];
const TITLES: &[&str] = &[
    "VP Marketing",
    "Head of Growth",
    "Marketing Manager",
    "CMO",
    "Demand Gen Lead",
    "Marketing Ops Analyst",
    "CFO",
    "Sales Director",
    "Founder",
    "Content Strategist",
];
/// (name, domain) of the demo's companies; free-mail domains model people who sign up
/// with a personal address.
pub const COMPANIES: &[(&str, &str)] = &[
    ("Northwind Traders", "northwind.example"),
    ("Contoso Pharma", "contoso.example"),
    ("Globex", "globex.example"),
    ("Initech", "initech.example"),
    ("Umbrella Analytics", "umbrella.example"),
    ("Stark Logistics", "stark.example"),
    ("Wayne Fintech", "wayne.example"),
    ("Hooli Cloud", "hooli.example"),
    ("Pied Piper", "piedpiper.example"),
    ("Vandelay Imports", "vandelay.example"),
    ("Soylent Foods", "soylent.example"),
    ("Tyrell Robotics", "tyrell.example"),
];
const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com"];
/// Sources with realistic weights: inbound dominates, paid is large, outbound and affiliate smaller.
const SOURCES: &[(&str, u32)] = &[
    ("organic_search", 22),
    ("content", 10),
    ("webinar", 8),
    ("referral", 6),
    ("direct", 7),
    ("sdr", 8),
    ("event", 5),
    ("affiliate", 6),
    ("paid_search", 14),
    ("paid_social", 9),
    ("programmatic_display", 5),
];
const CAMPAIGNS: &[&str] = &[
    "cmp-search-brand",
    "cmp-search-generic",
    "cmp-social-launch",
    "cmp-display-retarget",
    "cmp-webinar-q4",
    "cmp-ebook-benchmarks",
];
const AFFILIATES: &[&str] = &["aff-reviewhub", "aff-saasradar", "aff-growthpod"];

/// ABM profile of each company in `COMPANIES`, in order: (tier, target, industry,
/// employees, region, annual revenue in EUR). Two one-to-one, four one-to-few, four
/// one-to-many and two outside ABM.
const ACCOUNT_PROFILES: &[(&str, bool, &str, i64, &str, &str)] = &[
    ("one_to_one", true, "software", 4200, "emea", "850000000.00"),
    ("one_to_one", true, "pharma", 12000, "na", "4100000000.00"),
    ("one_to_few", true, "fintech", 900, "emea", "120000000.00"),
    ("one_to_few", true, "software", 650, "na", "75000000.00"),
    ("one_to_few", true, "saas", 300, "emea", "40000000.00"),
    (
        "one_to_few",
        true,
        "logistics",
        2500,
        "apac",
        "300000000.00",
    ),
    ("one_to_many", true, "fintech", 180, "na", "22000000.00"),
    ("one_to_many", true, "saas", 120, "emea", "15000000.00"),
    ("one_to_many", false, "software", 60, "latam", "6000000.00"),
    ("one_to_many", false, "retail", 1400, "na", "210000000.00"),
    ("none", false, "food", 3000, "emea", "500000000.00"),
    ("none", false, "robotics", 80, "apac", "9000000.00"),
];

/// The body of `POST /v1/accounts` for the `i`-th demo company.
pub fn account(i: usize) -> Value {
    let (name, domain) = COMPANIES[i];
    let (tier, target, industry, employees, region, revenue) = ACCOUNT_PROFILES[i];
    let owner = ["sam", "kim", "alex"][i % 3];
    json!({
        "name": name,
        "domains": [domain],
        "abm_tier": tier,
        "target": target,
        "industry": industry,
        "employees": employees,
        "region": region,
        "annual_revenue": {"amount": revenue, "currency": "EUR"},
        "owner": owner,
    })
}

/// A generator of demo data, reproducible from its seed.
pub struct Generator {
    rng: StdRng,
    seed: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            seed,
        }
    }

    /// The body of `POST /v1/leads` for the `i`-th demo lead.
    pub fn lead(&mut self, i: usize) -> Value {
        let first = *FIRST.choose(&mut self.rng).expect("non-empty");
        let last = *LAST.choose(&mut self.rng).expect("non-empty");
        let personal = self.rng.random_bool(0.2);
        let (company, domain) = *COMPANIES.choose(&mut self.rng).expect("non-empty");
        let domain = if personal {
            *FREE_MAIL.choose(&mut self.rng).expect("non-empty")
        } else {
            domain
        };
        let source = weighted(&mut self.rng, SOURCES);
        let email = format!(
            "{}.{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase().replace('-', ""),
            i,
            domain
        );
        let mut body = json!({
            "email": email,
            "first_name": first,
            "last_name": last,
            "title": *TITLES.choose(&mut self.rng).expect("non-empty"),
            "company": company,
            "source": source,
            "anonymous_id": format!("anon-{:016x}", self.rng.random::<u64>()),
        });
        if matches!(
            source,
            "paid_search" | "paid_social" | "programmatic_display" | "webinar" | "content"
        ) {
            body["campaign_id"] = json!(*CAMPAIGNS.choose(&mut self.rng).expect("non-empty"));
        }
        if source == "affiliate" {
            body["affiliate_id"] = json!(*AFFILIATES.choose(&mut self.rng).expect("non-empty"));
        }
        body
    }

    /// An idempotency key that makes re-loading the same seed a no-op.
    pub fn key(&self, kind: &str, i: usize) -> String {
        format!("demo-{}-{kind}-{i}", self.seed)
    }
}

fn weighted<'a>(rng: &mut StdRng, items: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (name, w) in items {
        if pick < *w {
            return name;
        }
        pick -= w;
    }
    items[items.len() - 1].0
}

/// What a load did.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadReport {
    pub created: usize,
    pub already_there: usize,
    pub failed: usize,
}

impl std::ops::AddAssign for LoadReport {
    fn add_assign(&mut self, other: LoadReport) {
        self.created += other.created;
        self.already_there += other.already_there;
        self.failed += other.failed;
    }
}

/// Creates the demo companies as accounts (a rerun finds them there: 409 on the domain).
pub async fn load_accounts(base_url: &str) -> anyhow::Result<LoadReport> {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/accounts", base_url.trim_end_matches('/'));
    let mut report = LoadReport::default();
    for i in 0..COMPANIES.len() {
        match client
            .post(&url)
            .json(&account(i))
            .send()
            .await?
            .status()
            .as_u16()
        {
            201 => report.created += 1,
            409 => report.already_there += 1,
            _ => report.failed += 1,
        }
    }
    Ok(report)
}

/// What `load_progress` asks of the `i`-th lead: lifecycle moves and a MEDDICC card, so
/// that the funnel-shaped reports have something to show. Deterministic in `i`.
pub fn progress(i: usize) -> (Vec<&'static str>, Option<Value>) {
    match i % 20 {
        0 | 7 | 13 => (vec!["mql"], None),
        3 | 11 => (vec!["mql", "sql"], None),
        5 => (
            vec!["sql", "opportunity"],
            Some(meddicc_card([3, 2, 2, 2, 3, 2, 2])),
        ),
        9 => (vec!["mql"], Some(meddicc_card([1, 1, 2, 1, 2, 2, 1]))),
        15 => (vec!["sql", "opportunity", "customer"], None),
        17 => (vec!["disqualified"], None),
        _ => (vec![], None),
    }
}

fn meddicc_card(scores: [u8; 7]) -> Value {
    let names = [
        "metrics",
        "economic_buyer",
        "decision_criteria",
        "decision_process",
        "identify_pain",
        "champion",
        "competition",
    ];
    let mut card = serde_json::Map::new();
    for (name, score) in names.iter().zip(scores) {
        card.insert(
            name.to_string(),
            json!({"score": score, "evidence": format!("demo notes on {}", name.replace('_', " "))}),
        );
    }
    Value::Object(card)
}

/// Moves demo leads through the lifecycle and scores some with MEDDICC. Moves a lead has
/// already made are refused (409) on a rerun and counted as already there.
pub async fn load_progress(
    base_url: &str,
    lead_ids: &[(usize, String)],
) -> anyhow::Result<LoadReport> {
    let client = reqwest::Client::new();
    let base = base_url.trim_end_matches('/');
    let mut report = LoadReport::default();
    for (i, id) in lead_ids {
        let (mut moves, card) = progress(*i);
        // Deals move leads too (a lost deal recycles its lead to `lead`), so a move being
        // legal again does not mean it is missing: a lead whose history already holds its
        // first move has had them all.
        if let Some(first) = moves.first() {
            let history: Value = client
                .get(format!("{base}/v1/leads/{id}/lifecycle"))
                .send()
                .await?
                .json()
                .await
                .unwrap_or(Value::Null);
            let done = history["items"]
                .as_array()
                .is_some_and(|h| h.iter().any(|c| c["to_stage"] == *first));
            if done {
                report.already_there += moves.len();
                moves.clear();
            }
        }
        for stage in moves {
            let (status, body) = suite::http::send(
                client
                    .post(format!("{base}/v1/leads/{id}/lifecycle"))
                    .json(&json!({"to_stage": stage})),
            )
            .await?;
            suite::http::tally(&mut report, status, "lifecycle move", &body);
        }
        if let Some(card) = card {
            let url = format!("{base}/v1/leads/{id}/meddicc");
            let (status, body) = suite::http::put_as_read(&client, &url, &card).await?;
            suite::http::tally(&mut report, status, "MEDDICC card", &body);
        }
    }
    Ok(report)
}

/// Posts `count` demo leads to the leads service at `base_url`, 16 at a time.
pub async fn load_leads(base_url: &str, seed: u64, count: usize) -> anyhow::Result<LoadReport> {
    load_leads_with_ids(base_url, seed, count)
        .await
        .map(|(r, _)| r)
}

/// As `load_leads`, also returning each created (or replayed) lead's index and id.
pub async fn load_leads_with_ids(
    base_url: &str,
    seed: u64,
    count: usize,
) -> anyhow::Result<(LoadReport, Vec<(usize, String)>)> {
    use futures::StreamExt;
    let client = reqwest::Client::new();
    let mut generator = Generator::new(seed);
    let requests: Vec<(usize, String, Value)> = (0..count)
        .map(|i| (i, generator.key("lead", i), generator.lead(i)))
        .collect();
    let url = format!("{}/v1/leads", base_url.trim_end_matches('/'));
    let mut report = LoadReport::default();
    let mut stream = futures::stream::iter(requests)
        .map(|(i, key, body)| {
            let client = client.clone();
            let url = url.clone();
            async move {
                let r = client
                    .post(&url)
                    .header("idempotency-key", key)
                    .json(&body)
                    .send()
                    .await?;
                let status = r.status().as_u16();
                let replayed = r.headers().contains_key("idempotent-replayed");
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let id = body["id"].as_str().map(str::to_string);
                Ok::<_, reqwest::Error>((i, status, replayed, id))
            }
        })
        .buffer_unordered(16);
    let mut ids = Vec::new();
    while let Some(result) = stream.next().await {
        match result {
            Ok((i, 201, replayed, Some(id))) => {
                if replayed {
                    report.already_there += 1;
                } else {
                    report.created += 1;
                }
                ids.push((i, id));
            }
            Ok((_, 409, _, _)) => report.already_there += 1,
            _ => report.failed += 1,
        }
    }
    ids.sort();
    Ok((report, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a: Vec<Value> = (0..50)
            .map({
                let mut g = Generator::new(7);
                move |i| g.lead(i)
            })
            .collect();
        let b: Vec<Value> = (0..50)
            .map({
                let mut g = Generator::new(7);
                move |i| g.lead(i)
            })
            .collect();
        let c: Vec<Value> = (0..50)
            .map({
                let mut g = Generator::new(8);
                move |i| g.lead(i)
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn accounts_cover_every_abm_tier_and_progress_covers_the_lifecycle() {
        let tiers: std::collections::HashSet<String> = (0..COMPANIES.len())
            .map(|i| account(i)["abm_tier"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(tiers.len(), 4);
        let stages: std::collections::HashSet<&str> = (0..20).flat_map(|i| progress(i).0).collect();
        for s in ["mql", "sql", "opportunity", "customer", "disqualified"] {
            assert!(stages.contains(s), "{s}");
        }
        assert!((0..20).any(|i| progress(i).1.is_some()));
    }

    #[test]
    fn affiliate_leads_carry_an_affiliate_and_emails_are_unique() {
        let mut g = Generator::new(1);
        let leads: Vec<Value> = (0..500).map(|i| g.lead(i)).collect();
        let mut emails = std::collections::HashSet::new();
        let mut sources = std::collections::HashSet::new();
        for l in &leads {
            assert!(emails.insert(l["email"].as_str().unwrap().to_string()));
            sources.insert(l["source"].as_str().unwrap().to_string());
            if l["source"] == "affiliate" {
                assert!(l["affiliate_id"].is_string());
            }
        }
        assert_eq!(sources.len(), SOURCES.len(), "every source appears");
    }
}
