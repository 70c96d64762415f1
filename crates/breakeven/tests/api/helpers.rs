//! `spawn_app()`: a break-even service on a random port with its own database and broker
//! names, plus helpers to publish other services' events into the test's namespace.

use std::time::Duration;

use diesel::prelude::*;
use platform::Settings;
use platform::bus::Tap;
use platform::testing::{RunningService, TestNamespace};
use serde_json::{Value, json};

pub struct TestApp {
    pub service: RunningService,
    pub client: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    let namespace = TestNamespace::new();
    let settings = namespace.settings(breakeven::SERVICE);
    spawn_with(settings).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let def = breakeven::definition_with(breakeven::Tracking::default());
    let service = RunningService::start(def, settings).await;
    TestApp {
        service,
        client: reqwest::Client::new(),
    }
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

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// POSTs and expects 201; returns the body.
    pub async fn create(&self, path: &str, body: &Value) -> Value {
        let resp = self.post_json(path, body).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
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

    /// Outbox rows of one event type (`campaign.at_risk` → the full routing key).
    pub async fn outbox_count(&self, event: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.breakeven.{event}.v1'"
        ))
        .await
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

    /// Waits until the service's queue has its consumer (so it is bound and published
    /// events reach it); `/health/ready` can answer before the consumer first connects.
    pub async fn wait_ready(&self) {
        let bus = &self.service.settings.bus;
        let queue = bus.queue(breakeven::SERVICE);
        let conn = platform::bus::connect(bus, "test-ready").await.unwrap();
        for _ in 0..200 {
            let channel = conn.create_channel().await.unwrap();
            let declared = channel
                .queue_declare(
                    queue.as_str().into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await;
            if declared.is_ok_and(|q| q.consumer_count() > 0) {
                let _ = conn.close(200, "done".into()).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the consumer never started");
    }

    /// Publishes events of one type as one CloudEvents batch message.
    pub async fn publish_batch(&self, events: &[contracts::RawEvent]) {
        self.publish_body(
            &events[0].ty,
            &uuid::Uuid::now_v7().to_string(),
            contracts::CLOUDEVENTS_BATCH_JSON,
            &serde_json::to_vec(events).unwrap(),
        )
        .await;
    }

    /// Publishes an event onto this test's exchange, as another service would.
    pub async fn publish(&self, event: &contracts::RawEvent) {
        self.publish_body(
            &event.ty,
            &event.id.to_string(),
            contracts::CLOUDEVENTS_JSON,
            &event.to_json_bytes(),
        )
        .await;
    }

    async fn publish_body(&self, routing_key: &str, id: &str, content_type: &str, body: &[u8]) {
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
            routing_key,
            body,
            platform::bus::message_properties(id, content_type, Default::default()),
        )
        .await
        .unwrap();
        let _ = conn.close(200, "done".into()).await;
    }

    /// A product priced 100 with variable cost 60 (CM ratio 0.4), in USD.
    pub async fn birdbath(&self) -> String {
        let p = self
            .create(
                "/v1/products",
                &json!({"name": "Blue Jay birdbath", "price": "100", "variable_cost": "60", "currency": "USD"}),
            )
            .await;
        p["id"].as_str().unwrap().to_string()
    }
}

/// Asserts a problem+json response with `status` whose errors name `field`.
pub async fn assert_problem(resp: reqwest::Response, status: u16, field: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://touchstone.dev/problems/")
    );
    assert_eq!(body["status"], status);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&field), "{field} not named in {body}");
    body
}
