//! Deterministic demo data: the same seed always gives the same accounts and leads. It is
//! loaded through the services' public REST APIs, never into their databases directly,
//! and the benchmarks draw their inputs from it too.

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
/// (name, domain, tier) of the demo's companies; free-mail domains model people who
/// sign up with a personal address.
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

/// Posts `count` demo leads to the leads service at `base_url`, 16 at a time.
pub async fn load_leads(base_url: &str, seed: u64, count: usize) -> anyhow::Result<LoadReport> {
    use futures::StreamExt;
    let client = reqwest::Client::new();
    let mut generator = Generator::new(seed);
    let requests: Vec<(String, Value)> = (0..count)
        .map(|i| (generator.key("lead", i), generator.lead(i)))
        .collect();
    let url = format!("{}/v1/leads", base_url.trim_end_matches('/'));
    let mut report = LoadReport::default();
    let mut stream = futures::stream::iter(requests)
        .map(|(key, body)| {
            let client = client.clone();
            let url = url.clone();
            async move {
                client
                    .post(&url)
                    .header("idempotency-key", key)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| {
                        (
                            r.status().as_u16(),
                            r.headers().contains_key("idempotent-replayed"),
                        )
                    })
            }
        })
        .buffer_unordered(16);
    while let Some(result) = stream.next().await {
        match result {
            Ok((201, false)) => report.created += 1,
            Ok((201, true)) | Ok((409, _)) => report.already_there += 1,
            _ => report.failed += 1,
        }
    }
    Ok(report)
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
