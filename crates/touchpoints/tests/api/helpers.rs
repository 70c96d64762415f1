//! `spawn_app()`: a touchpoints service on a random port with its own database and broker
//! names, plus helpers to publish other services' events into the test's namespace.

use std::time::Duration;

use diesel::prelude::*;
use platform::bus::Tap;
use platform::testing::{RunningService, TestNamespace};
use serde_json::{Value, json};
use touchpoints::TouchpointsConfig;

pub struct TestApp {
    pub service: RunningService,
    pub client: reqwest::Client,
}

/// Small chunks and lines, so that tests cross chunk boundaries with few lines.
pub fn test_config() -> TouchpointsConfig {
    TouchpointsConfig {
        chunk_lines: 3,
        max_line_bytes: 1024,
        max_listed_errors: 3,
        events_per_message: 2,
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
    TestApp {
        service,
        client: reqwest::Client::new(),
    }
}

/// A touch with the fields every touch needs, plus `extra`.
pub fn touch(occurred_at: &str, channel: &str, ty: &str, extra: Value) -> Value {
    let mut v = json!({"occurred_at": occurred_at, "channel": channel, "type": ty});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    v
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.service.url(path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// Posts touches and expects them stored.
    pub async fn ingest(&self, touches: &[Value]) -> Value {
        let resp = self.post_json("/v1/touchpoints", &json!(touches)).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert!(status == 201 || status == 200, "{status}: {body}");
        body
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

    /// Runs a scalar count query against this test's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let sql = sql.to_string();
        self.service
            .db
            .run(move |conn| {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                diesel::sql_query(sql)
                    .get_result::<N>(conn)
                    .map(|r| r.n)
                    .map_err(platform::DbError::from)
            })
            .await
            .expect("count query")
    }

    /// Waits until `sql` (a count) reaches `n`.
    pub async fn wait_count(&self, sql: &str, n: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let c = self.count(sql).await;
            if c >= n {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{sql}: {c} < {n}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every consumed event of the test has gone through the inbox.
    pub async fn wait_inbox(&self, n: i64) {
        self.wait_count("SELECT count(*) AS n FROM inbox", n).await;
    }

    /// Publishes an event onto this test's exchange, as another service would.
    pub async fn publish<T: contracts::EventPayload>(&self, payload: &T) -> contracts::RawEvent {
        let event = contracts::RawEvent::new(payload, None);
        self.publish_raw(&event).await;
        event
    }

    pub async fn publish_raw(&self, event: &contracts::RawEvent) {
        let bus = &self.service.settings.bus;
        let conn = platform::bus::connect(bus, "test-publisher").await.unwrap();
        let channel = conn.create_channel().await.unwrap();
        channel
            .confirm_select(lapin::options::ConfirmSelectOptions::default())
            .await
            .unwrap();
        platform::bus::publish_confirmed(
            &channel,
            &bus.exchange,
            &event.ty,
            &event.to_json_bytes(),
            platform::bus::message_properties(
                &event.id.to_string(),
                contracts::CLOUDEVENTS_JSON,
                Default::default(),
            ),
        )
        .await
        .unwrap();
        let _ = conn.close(200, "done".into()).await;
    }

    /// Waits until the consumer has declared and bound its queues (the dead-letter queue is
    /// declared after the bindings), so that published events reach it.
    pub async fn wait_ready(&self) {
        let bus = &self.service.settings.bus;
        let dlq = bus.dlq(touchpoints::SERVICE);
        let conn = platform::bus::connect(bus, "test-probe").await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            // A failed passive declare closes the channel, so each probe gets a new one.
            let channel = conn.create_channel().await.unwrap();
            let found = channel
                .queue_declare(
                    dlq.as_str().into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .is_ok();
            if found {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "consumer never bound"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = conn.close(200, "done".into()).await;
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
