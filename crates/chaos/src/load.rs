//! The suite's instances, requests with failover, the data the run sets up, and the load
//! generators with the ledger of every effect they asked for.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::Args;

pub const SERVICES: [(&str, u16); 4] = [
    ("leads", 8081),
    ("funnel", 8082),
    ("touchpoints", 8083),
    ("breakeven", 8084),
];
/// How long a request is tried again (on every instance in turn) before it is given up.
const GIVE_UP: Duration = Duration::from_secs(240);
const CURRENCY: &str = "EUR";
/// Every touch is a paid-search click: one scoring rule and one cost per touch.
pub const CHANNEL: &str = "paid_search";
pub const TOUCH_TYPE: &str = "click";

/// The instances `make run REPLICAS=n` started, and one HTTP client.
pub struct Suite {
    pub replicas: u16,
    pub client: reqwest::Client,
    /// This run's names: leads, campaigns and keys carry it, so runs never collide.
    pub run: String,
    next: AtomicU64,
    pub outcomes: Outcomes,
}

/// What the requests met, over the whole run.
#[derive(Default)]
pub struct Outcomes {
    pub requests: AtomicU64,
    /// Sent again after a connection error, a timeout or a 503.
    pub retried: AtomicU64,
    pub unavailable_503: AtomicU64,
    pub connection_errors: AtomicU64,
    /// 500s: a bug, whatever the fault.
    pub server_errors_500: AtomicU64,
    pub given_up: AtomicU64,
}

/// A request's outcome once an instance answered with something other than a 5xx.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Suite {
    pub fn new(replicas: u16, seed: u64) -> Suite {
        Suite {
            replicas,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            run: format!("chaos{seed}x{}", Utc::now().format("%m%d%H%M%S")),
            next: AtomicU64::new(0),
            outcomes: Outcomes::default(),
        }
    }

    /// The ports of `service`'s instances.
    pub fn ports(&self, service: &str) -> Vec<u16> {
        let base = SERVICES
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, p)| *p)
            .expect("a known service");
        (0..self.replicas).map(|i| base + 100 * i).collect()
    }

    pub fn all_ports(&self) -> Vec<(&'static str, u16)> {
        SERVICES
            .iter()
            .flat_map(|(s, _)| self.ports(s).into_iter().map(move |p| (*s, p)))
            .collect()
    }

    pub async fn ready(&self, port: u16) -> bool {
        self.client
            .get(format!("http://127.0.0.1:{port}/health/ready"))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// Waits until every instance is ready; how long that took.
    pub async fn wait_ready(&self, within: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        loop {
            let mut all = true;
            for (_, port) in self.all_ports() {
                if !self.ready(port).await {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(start.elapsed());
            }
            anyhow::ensure!(
                start.elapsed() < within,
                "the suite is not ready after {within:?}: is `make run REPLICAS={}` running?",
                self.replicas
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends a request to `service`, starting at the next instance in turn; a connection
    /// error, a timeout or a 5xx sends it again to the next instance (after a short pause
    /// once every instance failed), until it gets another answer or [`GIVE_UP`] passes.
    /// Idempotent requests only: creates carry an `Idempotency-Key`.
    pub async fn send(
        &self,
        service: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Option<Answer> {
        let body = body.map(|b| ("application/json", b.to_string()));
        self.send_body(service, method, path, body, key).await
    }

    /// [`send`](Self::send) with a body of its own content type.
    pub async fn send_body(
        &self,
        service: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, String)>,
        key: Option<&str>,
    ) -> Option<Answer> {
        let ports = self.ports(service);
        let first = self.next.fetch_add(1, Ordering::Relaxed) as usize;
        let start = Instant::now();
        let mut attempt = 0usize;
        loop {
            let port = ports[(first + attempt) % ports.len()];
            let mut req = self
                .client
                .request(method.clone(), format!("http://127.0.0.1:{port}{path}"));
            if let Some((content_type, b)) = &body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, *content_type)
                    .body(b.clone());
            }
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            self.outcomes.requests.fetch_add(1, Ordering::Relaxed);
            match req.send().await {
                Ok(resp) if resp.status().is_server_error() => {
                    if resp.status().as_u16() == 503 {
                        self.outcomes
                            .unavailable_503
                            .fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.outcomes
                            .server_errors_500
                            .fetch_add(1, Ordering::Relaxed);
                        eprintln!(
                            "[chaos] {} {method} {path} on :{port}: {}",
                            resp.status(),
                            resp.text().await.unwrap_or_default()
                        );
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.json().await.unwrap_or(Value::Null);
                    return Some(Answer { status, body });
                }
                Err(_) => {
                    self.outcomes
                        .connection_errors
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            if start.elapsed() > GIVE_UP {
                self.outcomes.given_up.fetch_add(1, Ordering::Relaxed);
                eprintln!("[chaos] gave up on {method} {path}");
                return None;
            }
            self.outcomes.retried.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
            if attempt.is_multiple_of(ports.len()) {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }

    pub async fn get(&self, service: &str, path: &str) -> Option<Answer> {
        self.send(service, reqwest::Method::GET, path, None, None)
            .await
    }

    pub async fn post(&self, service: &str, path: &str, body: &Value, key: &str) -> Option<Answer> {
        self.send(service, reqwest::Method::POST, path, Some(body), Some(key))
            .await
    }
}

/// What the run created before the load: its campaigns (in breakeven, with a product).
#[derive(Clone)]
pub struct Setup {
    pub campaigns: Vec<String>,
    /// When every touch of the run occurred: engagement decays from here.
    pub touched_at: DateTime<Utc>,
}

pub async fn setup(suite: &Suite, seed: u64) -> anyhow::Result<Setup> {
    let run = &suite.run;
    let product = suite
        .post(
            "breakeven",
            "/v1/products",
            &json!({"name": format!("{run} product"), "price": "100", "variable_cost": "40",
                    "currency": CURRENCY}),
            &format!("{run}-product"),
        )
        .await
        .filter(|a| a.status == 201)
        .ok_or_else(|| anyhow::anyhow!("the run's product could not be created"))?;
    let today = Utc::now().date_naive();
    let mut campaigns = Vec::new();
    for i in 0..(3 + seed % 3) {
        let id = format!("{run}-c{i}");
        let created = suite
            .post(
                "breakeven",
                "/v1/campaigns",
                &json!({"id": id, "name": id, "budget": "1000000", "currency": CURRENCY,
                        "starts_on": today - chrono::Days::new(30),
                        "ends_on": today + chrono::Days::new(30),
                        "product_mix": [{"product_id": product.body["id"], "share": "1"}]}),
                &format!("{id}-create"),
            )
            .await
            .filter(|a| a.status == 201);
        anyhow::ensure!(created.is_some(), "campaign {id} could not be created");
        campaigns.push(id);
    }
    Ok(Setup {
        campaigns,
        touched_at: Utc::now() - chrono::Duration::hours(1),
    })
}

/// Every effect the load asked for and got an answer to.
#[derive(Default)]
pub struct Ledger {
    pub inner: Mutex<Entries>,
}

impl Ledger {
    /// The leads created so far, oldest first.
    pub fn lead_ids(&self) -> Vec<Uuid> {
        self.inner
            .lock()
            .expect("ledger")
            .leads
            .keys()
            .copied()
            .collect()
    }
}

#[derive(Default)]
pub struct Entries {
    /// Lead id → its campaign.
    pub leads: BTreeMap<Uuid, String>,
    /// Lead id → touches recorded for it.
    pub touches: BTreeMap<Uuid, u32>,
    /// Campaign → the sum of its touches' costs.
    pub spend: BTreeMap<String, Decimal>,
    /// Deal id → the amount it was won for.
    pub won: BTreeMap<Uuid, Decimal>,
    pub lost: u64,
    /// Leads whose deal already got its transition (or whose turn was taken).
    pub transitioned: std::collections::BTreeSet<Uuid>,
}

/// A small seeded generator (xorshift64*): the run's data is the same for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Starts the three generators: leads, touches, deal transitions.
pub fn spawn(
    suite: Arc<Suite>,
    ledger: Arc<Ledger>,
    setup: Setup,
    args: &Args,
    stop: Arc<Notify>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let leads_every = Duration::from_secs_f64(1.0 / f64::from(args.leads_per_second.max(1)));
    tasks.push(tokio::spawn(paced(leads_every, stop.clone(), {
        let (suite, ledger, setup) = (suite.clone(), ledger.clone(), setup.clone());
        let mut rng = Rng::new(args.seed ^ 0x1ead);
        move |i| {
            let campaign =
                setup.campaigns[rng.below(setup.campaigns.len() as u64) as usize].clone();
            let (suite, ledger) = (suite.clone(), ledger.clone());
            async move { create_lead(&suite, &ledger, i, campaign).await }
        }
    })));
    let per_request = 20u32;
    let touches_every =
        Duration::from_secs_f64(f64::from(per_request) / f64::from(args.touches_per_second.max(1)));
    tasks.push(tokio::spawn(paced(touches_every, stop.clone(), {
        let (suite, ledger, setup) = (suite.clone(), ledger.clone(), setup.clone());
        let rng = Arc::new(Mutex::new(Rng::new(args.seed ^ 0x70c4)));
        move |i| {
            let (suite, ledger, setup, rng) =
                (suite.clone(), ledger.clone(), setup.clone(), rng.clone());
            async move { send_touches(&suite, &ledger, &setup, &rng, i, per_request).await }
        }
    })));
    tasks.push(tokio::spawn(paced(
        Duration::from_secs(BULK_EVERY_SECONDS),
        stop.clone(),
        {
            let (suite, ledger, setup) = (suite.clone(), ledger.clone(), setup.clone());
            let rng = Arc::new(Mutex::new(Rng::new(args.seed ^ 0xb01c)));
            move |i| {
                let (suite, ledger, setup, rng) =
                    (suite.clone(), ledger.clone(), setup.clone(), rng.clone());
                async move { bulk_touches(&suite, &ledger, &setup, &rng, i).await }
            }
        },
    )));
    tasks.push(tokio::spawn(paced(Duration::from_millis(400), stop, {
        let (suite, ledger) = (suite.clone(), ledger.clone());
        let rng = Arc::new(Mutex::new(Rng::new(args.seed ^ 0xdea1)));
        move |i| {
            let (suite, ledger, rng) = (suite.clone(), ledger.clone(), rng.clone());
            async move { move_a_deal(&suite, &ledger, &rng, i).await }
        }
    })));
    tasks
}

/// Calls `step(i)` every `every` (open loop: steps overlap when one is slow) until `stop`,
/// then waits for the steps still running.
async fn paced<F, Fut>(every: Duration, stop: Arc<Notify>, mut step: F)
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    let stopped = stop.notified();
    tokio::pin!(stopped);
    let mut i = 0;
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = tick.tick() => {
                running.spawn(step(i));
                i += 1;
            }
        }
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn create_lead(suite: &Suite, ledger: &Ledger, i: u64, campaign: String) {
    let run = &suite.run;
    let body = json!({"email": format!("{run}-{i}@chaos.example"), "source": "paid_search",
                      "campaign_id": campaign});
    let Some(answer) = suite
        .post("leads", "/v1/leads", &body, &format!("{run}-lead-{i}"))
        .await
    else {
        return;
    };
    if answer.status != 201 {
        eprintln!("[chaos] lead {i}: {} {}", answer.status, answer.body);
        return;
    }
    if let Some(id) = answer.body["id"].as_str().and_then(|s| s.parse().ok()) {
        ledger
            .inner
            .lock()
            .expect("ledger")
            .leads
            .insert(id, campaign);
    }
}

/// A bulk import every this many seconds, of [`BULK_TOUCHES`] touchpoints.
pub const BULK_EVERY_SECONDS: u64 = 5;
pub const BULK_TOUCHES: u32 = 250;

/// A touch drawn for the run: (its JSON, its lead, campaign and cost).
type Touch = (Value, Uuid, String, Decimal);

/// `n` paid-search clicks with a cost, on leads created so far and the run's campaigns.
fn draw_touches(ledger: &Ledger, setup: &Setup, rng: &Mutex<Rng>, n: u32) -> Vec<Touch> {
    let leads = ledger.lead_ids();
    if leads.is_empty() {
        return Vec::new();
    }
    let mut rng = rng.lock().expect("rng");
    (0..n)
        .map(|_| {
            let lead = leads[rng.below(leads.len() as u64) as usize];
            let campaign =
                setup.campaigns[rng.below(setup.campaigns.len() as u64) as usize].clone();
            let cost = Decimal::new(1 + rng.below(999) as i64, 2);
            let json = json!({
                "id": Uuid::now_v7(), "occurred_at": setup.touched_at.to_rfc3339(),
                "channel": CHANNEL, "type": TOUCH_TYPE, "campaign_id": campaign,
                "lead_id": lead, "cost": cost.to_string(), "currency": CURRENCY,
            });
            (json, lead, campaign, cost)
        })
        .collect()
}

/// Records touches the service accepted.
fn record_touches(ledger: &Ledger, touches: Vec<Touch>) {
    let mut entries = ledger.inner.lock().expect("ledger");
    for (_, lead, campaign, cost) in touches {
        *entries.touches.entry(lead).or_default() += 1;
        *entries.spend.entry(campaign).or_default() += cost;
    }
}

async fn send_touches(
    suite: &Suite,
    ledger: &Ledger,
    setup: &Setup,
    rng: &Mutex<Rng>,
    i: u64,
    n: u32,
) {
    let touches = draw_touches(ledger, setup, rng, n);
    if touches.is_empty() {
        return;
    }
    let batch: Vec<&Value> = touches.iter().map(|t| &t.0).collect();
    let key = format!("{}-touches-{i}", suite.run);
    let Some(answer) = suite
        .post("touchpoints", "/v1/touchpoints", &json!(batch), &key)
        .await
    else {
        return;
    };
    if !(200..300).contains(&answer.status) {
        eprintln!("[chaos] touches {i}: {} {}", answer.status, answer.body);
        return;
    }
    record_touches(ledger, touches);
}

/// A bulk import (NDJSON, streamed in one request) of [`BULK_TOUCHES`] touchpoints.
async fn bulk_touches(suite: &Suite, ledger: &Ledger, setup: &Setup, rng: &Mutex<Rng>, i: u64) {
    let touches = draw_touches(ledger, setup, rng, BULK_TOUCHES);
    if touches.is_empty() {
        return;
    }
    let body: String = touches.iter().map(|t| format!("{}\n", t.0)).collect();
    let key = format!("{}-bulk-{i}", suite.run);
    let Some(answer) = suite
        .send_body(
            "touchpoints",
            reqwest::Method::POST,
            "/v1/touchpoints/bulk",
            Some(("application/x-ndjson", body)),
            Some(&key),
        )
        .await
    else {
        return;
    };
    let accepted = answer.body["accepted"].as_u64();
    if answer.status != 200 || accepted != Some(u64::from(BULK_TOUCHES)) {
        eprintln!("[chaos] bulk {i}: {} {}", answer.status, answer.body);
        return;
    }
    record_touches(ledger, touches);
}

/// Takes a lead created at least three seconds ago whose deal has not moved yet, and wins
/// (two in three) or loses its deal.
async fn move_a_deal(suite: &Suite, ledger: &Ledger, rng: &Mutex<Rng>, i: u64) {
    let lead = {
        let mut entries = ledger.inner.lock().expect("ledger");
        let candidate = entries
            .leads
            .keys()
            .find(|l| !entries.transitioned.contains(l))
            .copied();
        let Some(lead) = candidate else { return };
        entries.transitioned.insert(lead);
        lead
    };
    // The funnel opens the deal when `lead.created` reaches it.
    let deadline = Instant::now() + GIVE_UP;
    let deal = loop {
        if let Some(a) = suite
            .get("funnel", &format!("/v1/deals?lead_id={lead}"))
            .await
            && let Some(id) = a.body["items"][0]["id"].as_str()
        {
            break id.to_string();
        }
        if Instant::now() > deadline {
            eprintln!("[chaos] no deal for lead {lead}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (win, amount) = {
        let mut rng = rng.lock().expect("rng");
        (
            rng.below(3) < 2,
            Decimal::new(10_000 + rng.below(490_000) as i64, 2),
        )
    };
    let body = if win {
        json!({"to_stage": "won", "amount": amount.to_string(), "currency": CURRENCY,
               "reason": "chaos"})
    } else {
        json!({"to_stage": "lost", "reason": "chaos"})
    };
    let key = format!("{}-move-{i}", suite.run);
    let Some(answer) = suite
        .post(
            "funnel",
            &format!("/v1/deals/{deal}/transitions"),
            &body,
            &key,
        )
        .await
    else {
        return;
    };
    if !(200..300).contains(&answer.status) {
        eprintln!(
            "[chaos] transition of {deal}: {} {}",
            answer.status, answer.body
        );
        return;
    }
    let mut entries = ledger.inner.lock().expect("ledger");
    match deal.parse() {
        Ok(id) if win => {
            entries.won.insert(id, amount);
        }
        _ => entries.lost += 1,
    }
}
