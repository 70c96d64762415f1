//! `spawn_app()`: a break-even service on a random port with its own database and broker
//! names, plus helpers to publish other services' events into the test's namespace.

use platform::Settings;
use platform::bus::Tap;
pub use platform::testing::assert_problem;
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

    pub async fn count(&self, sql: &str) -> i64 {
        self.service.count(sql).await
    }

    /// Outbox rows of one event type (`campaign.at_risk` → the full routing key).
    pub async fn outbox_count(&self, event: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.breakeven.{event}.v1'"
        ))
        .await
    }

    pub async fn wait_count(&self, sql: &str, n: i64) {
        self.service.wait_count(sql, n).await
    }

    pub async fn publish_batch(&self, events: &[contracts::RawEvent]) {
        self.service.publish_batch(events).await
    }

    pub async fn publish(&self, event: &contracts::RawEvent) {
        self.service.publish(event).await
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
