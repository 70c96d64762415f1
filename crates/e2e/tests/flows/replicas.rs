//! Two instances of every service side by side: the same database and queue, so competing
//! consumers and two outbox relays per service. A stated load sent through both instances
//! in turn leaves every cross-service effect applied exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Days, SecondsFormat, Utc};
use contracts::EventPayload;
use contracts::breakeven::{CampaignAtRisk, CampaignBreakevenReached};
use contracts::funnel::{DealCreated, DealLost, DealWon};
use contracts::leads::LeadCreated;
use contracts::touchpoints::TouchpointRecorded;
use platform::ServiceDefinition;
use platform::testing::{RunningService, instant};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::helpers::*;

const LEADS: usize = 40;
const CAMPAIGNS: [&str; 3] = ["spring", "summer", "autumn"];
/// Deals of leads `0..WON` are won, of `WON..LOST` lost, of `LOST..OPEN` left open in
/// `opportunity`; the rest stay where the funnel opened them.
const WON: usize = 16;
const LOST: usize = 26;
const OPEN: usize = 32;
/// Kinds of touch a lead gets: lead `i` gets the first `6 + i % 5`. Costed kinds carry a
/// cost in USD, in their touch's campaign.
const KINDS: [(&str, &str, bool); 10] = [
    ("click", "paid_search", true),
    ("impression", "display", true),
    ("page_view", "organic_search", false),
    ("click", "paid_social", true),
    ("form_submit", "webinar", false),
    ("viewable_impression", "display", true),
    ("download", "content", false),
    ("visit", "direct", false),
    ("click", "display", true),
    ("page_view", "paid_search", false),
];
/// Touches of no lead (costed clicks and impressions): spend, but no engagement.
const ANONYMOUS: usize = 40;
/// Every eventual effect must show within this time of the test's start.
const DEADLINE: Duration = Duration::from_secs(60);

/// Two instances of one service started on the same settings.
struct Pair {
    name: &'static str,
    instances: [RunningService; 2],
}

impl Pair {
    async fn start(suite: &Suite, definition: impl Fn() -> ServiceDefinition) -> Pair {
        let def = definition();
        let name = def.name;
        let settings = suite.settings(name);
        let first = RunningService::start(def, settings.clone()).await;
        let second = RunningService::start(definition(), settings).await;
        Pair {
            name,
            instances: [first, second],
        }
    }

    /// The instance the `n`th request goes to: the two in turn.
    fn at(&self, n: usize) -> &RunningService {
        &self.instances[n % 2]
    }

    /// A metric summed over lines carrying every one of `labels`, on each instance.
    async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> [u64; 2] {
        [
            metric(&self.instances[0], name, labels).await,
            metric(&self.instances[1], name, labels).await,
        ]
    }
}

/// A metric of one instance's `/metrics`, summed over the lines carrying every one of
/// `labels`.
async fn metric(svc: &RunningService, name: &str, labels: &[(&str, &str)]) -> u64 {
    let resp = svc.get("/metrics").await;
    assert_eq!(resp.status().as_u16(), 200, "GET /metrics");
    let text = resp.text().await.unwrap();
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| wanted.iter().all(|w| l.contains(w.as_str())))
        .map(|l| {
            let value = l.rsplit(' ').next().unwrap();
            value.parse::<f64>().unwrap_or_else(|_| panic!("{l}")) as u64
        })
        .sum()
}

/// Polls `probe` until it answers `Ok` or `deadline` passes, then fails with its last
/// answer.
async fn settle<T>(
    deadline: Instant,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        match probe().await {
            Ok(v) => {
                eprintln!("{what}: settled in {:?}", start.elapsed());
                return v;
            }
            Err(e) if Instant::now() >= deadline => panic!("{what} never settled: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A decimal string as an exact count of ten-thousandths (every amount sent here has at
/// most four decimals; digits past those must be zeros).
fn units(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let (kept, rest) = frac.split_at(frac.len().min(4));
    assert!(rest.bytes().all(|b| b == b'0'), "{s}: more than 4 decimals");
    let int: i128 = int.parse().unwrap_or_else(|_| panic!("a decimal: {s}"));
    let frac: i128 = format!("{kept:0<4}").parse().unwrap();
    int * 10_000 + frac
}

fn event_type<T: EventPayload>() -> &'static str {
    T::TYPE
}

fn decimal(units: i128) -> String {
    format!("{}.{:04}", units / 10_000, units % 10_000)
}

/// The points the scoring model gives a touch (an entry for the exact channel wins over
/// one for any channel; a type the model does not name earns nothing).
fn points(model: &Value, ty: &str, channel: &str) -> f64 {
    let entries = model["engagement_points"].as_array().expect("a model");
    let of_type = || entries.iter().filter(|e| e["touch_type"] == ty);
    of_type()
        .find(|e| e["channel"] == channel)
        .or_else(|| of_type().find(|e| e["channel"].is_null()))
        .map_or(0.0, |e| e["points"].as_f64().unwrap())
}

/// What the test sent, and so what every service must show.
#[derive(Default)]
struct Expected {
    /// Per campaign: spend in ten-thousandths of USD, and costed touches.
    spend: BTreeMap<&'static str, (i128, i64)>,
    /// Per lead index: touches worth points, and their points.
    engagement: BTreeMap<usize, (i64, f64)>,
    touches: usize,
}

impl Expected {
    fn touch(&mut self, campaign: &'static str, cost: Option<&str>) {
        self.touches += 1;
        if let Some(cost) = cost {
            let s = self.spend.entry(campaign).or_default();
            s.0 += units(cost);
            s.1 += 1;
        }
    }
}

/// A cost with two decimals for clicks, four for impressions (priced per mille).
fn cost_of(ty: &str, seed: usize) -> String {
    if ty == "click" {
        let cents = seed * 131 % 2500 + 1;
        format!("{}.{:02}", cents / 100, cents % 100)
    } else {
        format!("0.{:04}", seed * 37 % 400 + 50)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_of_every_service_apply_each_effect_once() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let suite = Suite::new();
    let leads = Pair::start(&suite, leads::definition).await;
    let funnel = Pair::start(&suite, funnel::definition).await;
    let touchpoints = Pair::start(&suite, || {
        touchpoints::definition().expect("touchpoints config")
    })
    .await;
    let breakeven = Pair::start(&suite, breakeven::definition).await;
    let pairs = [&leads, &funnel, &touchpoints, &breakeven];
    eprintln!("8 instances up in {:?}", started.elapsed());

    // The campaigns, defined in breakeven: one product at price 100 and variable cost 60 (a
    // CM ratio of 0.4), and budgets far above the spend, so that none is ever at risk.
    let product = suite
        .post(
            breakeven.at(0),
            "/v1/products",
            &json!({"name": "birdbath", "price": "100", "variable_cost": "60", "currency": "USD"}),
        )
        .await;
    let today = Utc::now().date_naive();
    for (n, campaign) in CAMPAIGNS.iter().enumerate() {
        let body = json!({"id": campaign, "name": campaign, "budget": "1000000", "currency": "USD",
                          "starts_on": today.checked_sub_days(Days::new(10)).unwrap(),
                          "ends_on": today.checked_add_days(Days::new(20)).unwrap(),
                          "product_mix": [{"product_id": product["id"], "share": "1"}]});
        suite.post(breakeven.at(n), "/v1/campaigns", &body).await;
    }

    // Leads, through both leads instances.
    let mut lead_ids = Vec::new();
    let mut latest: DateTime<Utc> = DateTime::UNIX_EPOCH;
    for i in 0..LEADS {
        let body = json!({"email": format!("lead{i}@replicas.example"), "source": "webinar",
                          "campaign_id": CAMPAIGNS[i % 3]});
        let lead = suite.post(leads.at(i), "/v1/leads", &body).await;
        lead_ids.push(lead["id"].as_str().unwrap().to_string());
        latest = latest.max(instant(&lead["created_at"]));
    }
    eprintln!("{LEADS} leads created at {:?}", started.elapsed());
    // The deal `lead.created` opens for each, read through both funnel instances.
    let mut deal_ids = Vec::new();
    for (i, lead_id) in lead_ids.iter().enumerate() {
        let deal = suite.deal_of_lead(funnel.at(i), lead_id).await;
        deal_ids.push(deal["id"].as_str().unwrap().to_string());
    }
    eprintln!("{LEADS} deals opened at {:?}", started.elapsed());

    // Touches, all at one instant just after the last lead was created: each lead's
    // engagement is then the plain sum of its touches' points, with no decay.
    // (Truncated to milliseconds, a millisecond later is still after it.)
    let at =
        (latest + chrono::Duration::milliseconds(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let model = suite.get(leads.at(0), "/v1/scoring-model").await["model"].clone();
    let mut expected = Expected::default();
    let mut touches = Vec::new();
    for (i, lead_id) in lead_ids.iter().enumerate() {
        let mut engagement = (0, 0.0);
        for (k, (ty, channel, costed)) in KINDS.iter().take(6 + i % 5).enumerate() {
            let campaign = CAMPAIGNS[(i + k) % 3];
            let cost = costed.then(|| cost_of(ty, i * KINDS.len() + k));
            let mut t = json!({"occurred_at": at, "channel": channel, "type": ty,
                               "campaign_id": campaign, "lead_id": lead_id});
            if let Some(cost) = &cost {
                t["cost"] = json!(cost);
                t["currency"] = json!("USD");
            }
            expected.touch(campaign, cost.as_deref());
            let p = points(&model, ty, channel);
            if p != 0.0 {
                engagement.0 += 1;
                engagement.1 += p;
            }
            touches.push(t);
        }
        expected.engagement.insert(i, engagement);
    }
    for j in 0..ANONYMOUS {
        let (ty, channel) = [("click", "paid_search"), ("impression", "display")][j % 2];
        let campaign = CAMPAIGNS[j % 3];
        let cost = cost_of(ty, 1000 + j);
        expected.touch(campaign, Some(&cost));
        // Interleaved with the leads' touches, so every way in carries some.
        touches.insert(
            j * 8,
            json!({"occurred_at": at, "channel": channel, "type": ty, "campaign_id": campaign,
                   "anonymous_id": format!("anon-{j}"), "cost": cost, "currency": "USD"}),
        );
    }
    // An email open for every fourth lead, known by email only.
    let mut singles = Vec::new();
    for i in (0..LEADS).step_by(4) {
        let campaign = CAMPAIGNS[i % 3];
        expected.touch(campaign, None);
        let p = points(&model, "email_open", "email");
        let e = expected.engagement.get_mut(&i).unwrap();
        if p != 0.0 {
            e.0 += 1;
            e.1 += p;
        }
        let email = format!("lead{i}@replicas.example");
        singles.push(
            json!({"occurred_at": at, "channel": "email", "type": "email_open",
                            "campaign_id": campaign, "email": email}),
        );
    }
    assert_eq!(touches.len() + singles.len(), expected.touches);

    // Through both touchpoints instances: two NDJSON bulk imports, four JSON arrays, and
    // the rest one POST each.
    let load = Instant::now();
    let (bulk, rest) = touches.split_at(150);
    let (arrays, rest) = rest.split_at(150);
    singles.extend(rest.iter().cloned());
    for (n, part) in bulk.chunks(75).enumerate() {
        let ndjson: String = part.iter().map(|t| format!("{t}\n")).collect();
        let svc = touchpoints.at(n);
        let resp = svc
            .client
            .post(svc.url("/v1/touchpoints/bulk"))
            .header("content-type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let report: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["inserted"], part.len(), "{report}");
        assert_eq!(report["rejected"], 0, "{report}");
    }
    for (n, part) in arrays.chunks(38).enumerate() {
        let answer = suite
            .post(touchpoints.at(n), "/v1/touchpoints", &json!(part))
            .await;
        assert_eq!(answer["inserted"], part.len(), "{answer}");
    }
    for (n, t) in singles.iter().enumerate() {
        suite.post(touchpoints.at(n), "/v1/touchpoints", t).await;
    }

    // Deals through both funnel instances: won (half of them by way of `opportunity`), lost
    // (half by way of `mql`), and left open in `opportunity`.
    let mut won: BTreeMap<&str, i128> = BTreeMap::new();
    let mut paths = Vec::new();
    let mut moves = 0;
    for (i, deal_id) in deal_ids.iter().enumerate() {
        let path: Vec<Value> = if i < WON {
            let cents = 100_000 + i * 12_345 + i * 37 % 100;
            let amount = format!("{}.{:02}", cents / 100, cents % 100);
            let currency = if i % 4 == 3 { "EUR" } else { "USD" };
            *won.entry(currency).or_default() += units(&amount);
            let win = json!({"to_stage": "won", "amount": amount, "currency": currency});
            match i % 2 {
                0 => vec![json!({"to_stage": "opportunity"}), win],
                _ => vec![win],
            }
        } else if i < LOST {
            let lose = json!({"to_stage": "lost", "reason": "no budget"});
            match i % 2 {
                0 => vec![json!({"to_stage": "mql"}), lose],
                _ => vec![lose],
            }
        } else if i < OPEN {
            vec![json!({"to_stage": "opportunity"})]
        } else {
            vec![]
        };
        for step in &path {
            let url = format!("/v1/deals/{deal_id}/transitions");
            suite.post(funnel.at(moves), &url, step).await;
            moves += 1;
        }
        paths.push(path);
    }
    eprintln!(
        "load sent in {:?}: {LEADS} leads, {} touches, {moves} deal moves",
        load.elapsed(),
        expected.touches
    );

    // Breakeven: each campaign's spend is the exact sum of the costs sent for it.
    settle(deadline, "campaign spend", async || {
        let pages = breakeven
            .at(0)
            .all_pages("/v1/reports/campaign-profitability", 2)
            .await;
        let rows: BTreeMap<String, Value> = pages
            .iter()
            .flat_map(|p| p["items"].as_array().unwrap().clone())
            .map(|r| (r["campaign_id"].as_str().unwrap().to_string(), r))
            .collect();
        let spend: BTreeMap<&str, String> = rows
            .iter()
            .map(|(c, r)| (c.as_str(), decimal(units(r["spend"].as_str().unwrap()))))
            .collect();
        let want: BTreeMap<&str, String> = expected
            .spend
            .iter()
            .map(|(c, s)| (*c, decimal(s.0)))
            .collect();
        if spend == want {
            Ok(())
        } else {
            Err(format!("spend {spend:?}, expected {want:?}"))
        }
    })
    .await;
    for (n, (campaign, (spend, costed))) in expected.spend.iter().enumerate() {
        let b = suite
            .get(
                breakeven.at(n),
                &format!("/v1/campaigns/{campaign}/breakeven"),
            )
            .await;
        assert_eq!(units(b["spend"].as_str().unwrap()), *spend, "{b}");
        assert_eq!(b["currency"], "USD", "{b}");
        let sql = format!(
            "SELECT touches AS n FROM campaign_spend WHERE campaign_id = '{campaign}' AND currency = 'USD'"
        );
        assert_eq!(breakeven.at(n).count(&sql).await, *costed, "{campaign}");
    }

    // Leads: each lead's recorded touches and engagement are exactly those sent for it.
    settle(deadline, "engagement", async || {
        for (i, (count, points)) in &expected.engagement {
            let lead_id = &lead_ids[*i];
            let db = leads.at(*i);
            let sql =
                format!("SELECT count(*) AS n FROM engagement_touches WHERE lead_id = '{lead_id}'");
            let recorded = db.count(&sql).await;
            let sql = format!(
                "SELECT (coalesce(sum(points), 0) * 100)::bigint AS n FROM engagement_touches \
                 WHERE lead_id = '{lead_id}'"
            );
            let earned = db.count(&sql).await as f64 / 100.0;
            let lead = suite.get(db, &format!("/v1/leads/{lead_id}")).await;
            let score = lead["engagement_score"].as_f64().unwrap();
            if recorded != *count || earned != *points || score != *points {
                return Err(format!(
                    "lead {i}: {recorded} touches worth {earned}, score {score}; \
                     expected {count} worth {points}"
                ));
            }
        }
        Ok(())
    })
    .await;

    // Funnel: exactly one deal per lead, and each deal's log is the moves sent, once.
    for (i, lead_id) in lead_ids.iter().enumerate() {
        let deals = suite
            .get(funnel.at(i), &format!("/v1/deals?lead_id={lead_id}"))
            .await;
        assert_eq!(deals["items"].as_array().unwrap().len(), 1, "{deals}");
    }
    let deals = funnel.at(0).count("SELECT count(*) AS n FROM deals").await;
    assert_eq!(deals, LEADS as i64, "one deal per lead, none doubled");
    for (i, (deal_id, path)) in deal_ids.iter().zip(&paths).enumerate() {
        let log = suite
            .get(funnel.at(i), &format!("/v1/deals/{deal_id}/transitions"))
            .await;
        let stages: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["to_stage"].as_str().unwrap())
            .collect();
        let sent: Vec<&str> = path
            .iter()
            .map(|m| m["to_stage"].as_str().unwrap())
            .collect();
        assert_eq!(stages, [&["lead"][..], &sent].concat(), "deal of lead {i}");
    }

    // Leads: each lead's lifecycle follows its deal.
    settle(deadline, "lifecycle stages", async || {
        for (i, lead_id) in lead_ids.iter().enumerate() {
            let want = match i {
                _ if i < WON => "customer",
                _ if (LOST..OPEN).contains(&i) => "opportunity",
                _ => "lead",
            };
            let lead = suite
                .get(leads.at(i), &format!("/v1/leads/{lead_id}"))
                .await;
            if lead["lifecycle_stage"] != want {
                return Err(format!(
                    "lead {i}: {}, expected {want}",
                    lead["lifecycle_stage"]
                ));
            }
        }
        Ok(())
    })
    .await;

    // Breakeven: every won deal once, with its amount, per currency.
    settle(deadline, "won deals", async || {
        let sql = "SELECT count(*) AS n FROM won_deals";
        match breakeven.at(1).count(sql).await {
            n if n == WON as i64 => Ok(()),
            n => Err(format!("{n} won deals, expected {WON}")),
        }
    })
    .await;
    for (currency, total) in &won {
        let sql = format!(
            "SELECT (sum(amount) * 10000)::bigint AS n FROM won_deals WHERE currency = '{currency}'"
        );
        let sum = breakeven.at(0).count(&sql).await;
        assert_eq!(decimal(sum.into()), decimal(*total), "won in {currency}");
    }
    // …and in the campaigns' revenue: each USD deal counts once, for its own campaign or
    // for those its attribution credits (the EUR ones not, as the campaigns count in USD).
    settle(deadline, "attributed revenue", async || {
        let pages = breakeven
            .at(1)
            .all_pages("/v1/reports/campaign-profitability", 50)
            .await;
        let revenue: i128 = pages
            .iter()
            .flat_map(|p| p["items"].as_array().unwrap().clone())
            .map(|r| units(r["attributed_revenue"].as_str().unwrap()))
            .sum();
        match revenue == won["USD"] {
            true => Ok(()),
            false => Err(format!(
                "{} attributed, {} won",
                decimal(revenue),
                decimal(won["USD"])
            )),
        }
    })
    .await;

    // Every campaign paid for itself (its contribution, 0.4 of its USD revenue, is far above
    // its spend), and said so once, whichever instance saw it cross.
    let reached = event_type::<CampaignBreakevenReached>();
    settle(deadline, "break-even reached", async || {
        for (n, campaign) in CAMPAIGNS.iter().enumerate() {
            let b = suite
                .get(
                    breakeven.at(n),
                    &format!("/v1/campaigns/{campaign}/breakeven"),
                )
                .await;
            if b["breakeven_reached"] != true || b["at_risk"] != false {
                return Err(format!("{b}"));
            }
        }
        Ok(())
    })
    .await;
    let sql = format!("SELECT count(*) AS n FROM outbox WHERE routing_key = '{reached}'");
    let alerts = breakeven.at(1).count(&sql).await;
    assert_eq!(alerts, CAMPAIGNS.len() as i64, "one {reached} per campaign");
    let at_risk = event_type::<CampaignAtRisk>();
    let sql = format!("SELECT count(*) AS n FROM outbox WHERE routing_key = '{at_risk}'");
    assert_eq!(breakeven.at(0).count(&sql).await, 0, "no campaign at risk");

    // Every outbox drained: both relays of each service are done.
    for pair in pairs {
        settle(deadline, &format!("{}'s outbox", pair.name), async || {
            let sql = "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL";
            match pair.at(0).count(sql).await {
                0 => Ok(()),
                n => Err(format!("{n} rows unpublished")),
            }
        })
        .await;
    }

    // Each event applied once in all, whichever instance consumed it; and both instances
    // of every service consumed some.
    let lost = (LOST - WON) as u64;
    let all = expected.touches as u64;
    let consumed = [
        (&leads, event_type::<TouchpointRecorded>(), all),
        (&leads, event_type::<DealCreated>(), LEADS as u64),
        (&leads, event_type::<DealWon>(), WON as u64),
        (&leads, event_type::<DealLost>(), lost),
        (&funnel, event_type::<LeadCreated>(), LEADS as u64),
        (&touchpoints, event_type::<LeadCreated>(), LEADS as u64),
        (&touchpoints, event_type::<DealWon>(), WON as u64),
        (&touchpoints, event_type::<DealLost>(), lost),
        (&breakeven, event_type::<TouchpointRecorded>(), all),
        (&breakeven, event_type::<DealWon>(), WON as u64),
    ];
    for (pair, ty, n) in consumed {
        let applied = settle(
            deadline,
            &format!("{} applying {ty}", pair.name),
            async || {
                let applied = pair
                    .metric(
                        "events_consumed_total",
                        &[("type", ty), ("outcome", "applied")],
                    )
                    .await;
                match applied[0] + applied[1] == n {
                    true => Ok(applied),
                    false => Err(format!("applied {applied:?}, expected {n} in all")),
                }
            },
        )
        .await;
        eprintln!("{} applied {ty}: {applied:?}", pair.name);
        // The broker hands a queue's messages to its consumers in turn; touchpoints come a
        // few hundred per message, so those few may all reach one instance.
        if ty != event_type::<TouchpointRecorded>() {
            assert!(
                applied.iter().all(|n| *n > 0),
                "both {} instances consume {ty}: {applied:?}",
                pair.name
            );
        }
    }
    for pair in pairs {
        let applied = pair
            .metric("events_consumed_total", &[("outcome", "applied")])
            .await;
        let duplicates = pair
            .metric("events_consumed_total", &[("outcome", "duplicate")])
            .await;
        eprintln!(
            "{}: applied {applied:?}, duplicates {duplicates:?}",
            pair.name
        );
        assert!(
            applied.iter().all(|n| *n > 0),
            "both {} instances consume: {applied:?}",
            pair.name
        );
    }
    // Each event published once in all, by either relay.
    let published = [
        (&leads, event_type::<LeadCreated>(), LEADS as u64),
        (&funnel, event_type::<DealCreated>(), LEADS as u64),
        (&funnel, event_type::<DealWon>(), WON as u64),
        (&funnel, event_type::<DealLost>(), lost),
        (&touchpoints, event_type::<TouchpointRecorded>(), all),
        (&breakeven, reached, CAMPAIGNS.len() as u64),
    ];
    for (pair, ty, n) in published {
        let by = pair.metric("events_published_total", &[("type", ty)]).await;
        eprintln!("{} published {ty}: {by:?}", pair.name);
        assert_eq!(by[0] + by[1], n, "{} published {ty}", pair.name);
    }
    for pair in pairs {
        let by = pair.metric("events_published_total", &[]).await;
        eprintln!("{} relays published {by:?}", pair.name);
    }

    // Nothing dead-lettered anywhere.
    for pair in pairs {
        let dead = platform::bus::dlq::peek(&pair.at(0).settings.bus, pair.name, 100)
            .await
            .expect("DLQ readable");
        assert!(dead.is_empty(), "{} dead-lettered {dead:?}", pair.name);
    }
    eprintln!("settled and checked in {:?}", started.elapsed());
}
