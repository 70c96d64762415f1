//! `spawn_app()`: a touchpoints service on a random port with its own database and broker
//! names, plus helpers to publish other services' events into the test's namespace (on top
//! of `RunningService`'s `publish`, `count` and `wait_count`).

use platform::bus::Tap;
use platform::testing::{RunningService, TestNamespace};
use serde_json::{Value, json};
use touchpoints::{IngestSettings, TouchpointsConfig};

pub struct TestApp {
    pub service: RunningService,
}

/// Small chunks and lines, so that tests cross chunk boundaries with few lines.
pub fn test_config() -> TouchpointsConfig {
    TouchpointsConfig {
        ingest: IngestSettings {
            chunk_lines: 3,
            max_line_bytes: 1024,
            max_listed_errors: 3,
            events_per_message: 2,
            ..IngestSettings::default()
        },
        ..TouchpointsConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(test_config()).await
}

pub async fn spawn_with(config: TouchpointsConfig) -> TestApp {
    let namespace = TestNamespace::new();
    let settings = namespace.settings(touchpoints::SERVICE);
    let service = RunningService::start(touchpoints::definition_with(config), settings).await;
    TestApp { service }
}

/// The fields a problem's `errors` name, in order.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A touch with the fields every touch needs, plus `extra`.
pub fn touch(occurred_at: &str, channel: &str, ty: &str, extra: Value) -> Value {
    let mut v = json!({"occurred_at": occurred_at, "channel": channel, "type": ty});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    v
}

/// A touch of `lead`, with a campaign when given.
pub fn lead_touch(
    lead: uuid::Uuid,
    occurred_at: &str,
    channel: &str,
    ty: &str,
    campaign_id: Option<&str>,
) -> Value {
    let extra = json!({"lead_id": lead, "campaign_id": campaign_id});
    touch(occurred_at, channel, ty, extra)
}

impl TestApp {
    /// Posts touches and expects them stored.
    pub async fn ingest(&self, touches: &[Value]) -> Value {
        let resp = self.post_json("/v1/touchpoints", &json!(touches)).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert!(status == 201 || status == 200, "{status}: {body}");
        body
    }

    /// `PUT path` with one conditional header (`If-Match` or `If-None-Match`).
    pub async fn put_if(
        &self,
        path: &str,
        header: (&str, &str),
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .header(header.0, header.1)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an affiliate (`If-None-Match: *`) and expects it created.
    pub async fn create_affiliate(&self, id: &str, body: &Value) -> Value {
        let resp = self
            .put_if(
                &format!("/v1/affiliates/{id}"),
                ("if-none-match", "*"),
                body,
            )
            .await;
        assert_eq!(resp.status().as_u16(), 201);
        assert_eq!(resp.headers()["etag"], "\"1\"");
        resp.json().await.unwrap()
    }

    pub async fn bulk(&self, body: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(self.url("/v1/touchpoints/bulk"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.json().await.unwrap()
    }

    pub async fn tap(&self, pattern: &str) -> Tap {
        Tap::open(&self.service.settings.bus, pattern)
            .await
            .expect("tap opens")
    }

    /// Asserts how many touchpoints are stored and how many events the outbox holds.
    pub async fn assert_stored(&self, touches: i64, events: i64) {
        let stored = self.count("SELECT count(*) AS n FROM touchpoints").await;
        let queued = self
            .count("SELECT coalesce(sum(event_count), 0)::bigint AS n FROM outbox")
            .await;
        assert_eq!(
            (stored, queued),
            (touches, events),
            "touches stored, events queued"
        );
    }

    /// Outbox messages queued with `routing_key`.
    pub async fn queued(&self, routing_key: &str) -> i64 {
        let sql = format!("SELECT count(*) AS n FROM outbox WHERE routing_key = '{routing_key}'");
        self.count(&sql).await
    }

    /// Waits until every consumed event of the test has gone through the inbox.
    pub async fn wait_inbox(&self, n: i64) {
        self.service
            .wait_count("SELECT count(*) AS n FROM inbox", n)
            .await;
    }

    /// A counter or gauge of this service (summed over its labels), from `/metrics`.
    pub async fn metric(&self, name: &str) -> i64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix(name))
            .filter(|rest| rest.starts_with([' ', '{']))
            .filter_map(|rest| rest.rsplit(' ').next()?.parse::<i64>().ok())
            .sum()
    }

    /// Waits up to 15 s until `metric` satisfies `done`; panics with its last value.
    pub async fn wait_metric(&self, metric: &str, done: impl Fn(i64) -> bool) -> i64 {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let v = self.metric(metric).await;
            if done(v) {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "{metric}: {v}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until the model that attributes won deals was last trained on `journeys`
    /// journeys.
    pub async fn wait_for_model_of(&self, journeys: i64) {
        self.wait_metric("touchpoints_attribution_model_journeys", |n| n == journeys)
            .await;
    }

    /// Publishes an event onto this test's exchange, as another service would.
    pub async fn publish<T: contracts::EventPayload>(&self, payload: &T) -> contracts::RawEvent {
        let event = contracts::RawEvent::new(payload, None);
        self.service.publish(&event).await;
        event
    }
}

pub mod events {
    use chrono::{DateTime, Utc};
    use contracts::funnel::{DealLost, DealWon};
    use contracts::leads::{LeadCreated, LeadMerged};
    use rust_decimal::Decimal;
    use uuid::Uuid;

    pub fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    pub fn lead_created(lead: Uuid, email: &str, anonymous_id: Option<&str>) -> LeadCreated {
        LeadCreated {
            lead_id: lead,
            email: email.into(),
            first_name: None,
            last_name: None,
            title: None,
            phone: None,
            company: None,
            source: "webinar".into(),
            lifecycle_stage: "lead".into(),
            campaign_id: None,
            anonymous_id: anonymous_id.map(str::to_string),
            affiliate_id: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            account_id: None,
            owner: None,
            consent: true,
            properties: serde_json::Value::Null,
            created_at: Utc::now(),
        }
    }

    pub fn lead_merged(
        survivor: Uuid,
        merged: Uuid,
        email: &str,
        anon: Option<&str>,
    ) -> LeadMerged {
        LeadMerged {
            lead_id: survivor,
            merged_lead_id: merged,
            merged_email: email.into(),
            merged_anonymous_id: anon.map(str::to_string),
            merged_at: Utc::now(),
        }
    }

    pub fn deal_won(deal: Uuid, lead: Uuid, amount: &str, won_at: &str) -> DealWon {
        DealWon {
            deal_id: deal,
            funnel_id: Uuid::now_v7(),
            lead_id: Some(lead),
            account_id: None,
            campaign_id: None,
            amount: amount.parse::<Decimal>().unwrap(),
            currency: "EUR".parse().unwrap(),
            won_at: at(won_at),
            reason: None,
            products: vec![],
        }
    }

    pub fn deal_lost(deal: Uuid, lead: Uuid, lost_at: &str) -> DealLost {
        DealLost {
            deal_id: deal,
            funnel_id: Uuid::now_v7(),
            lead_id: Some(lead),
            account_id: None,
            campaign_id: None,
            from_stage: "negotiation".into(),
            reason: "price".into(),
            amount: None,
            currency: None,
            lost_at: at(lost_at),
        }
    }
}

/// The service's own helpers (HTTP, publish, count) are the app's.
impl std::ops::Deref for TestApp {
    type Target = RunningService;
    fn deref(&self) -> &RunningService {
        &self.service
    }
}
