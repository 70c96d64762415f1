//! `spawn_app()`: a break-even service on a random port with its own database and broker
//! names, plus helpers to publish other services' events into the test's namespace.

use chrono::{Days, Utc};
use platform::Settings;
use platform::bus::Tap;
pub use platform::testing::assert_problem;
use platform::testing::{RunningService, TestNamespace};
use serde_json::{Value, json};

pub struct TestApp {
    pub service: RunningService,
}

pub async fn spawn_app() -> TestApp {
    let namespace = TestNamespace::new();
    let settings = namespace.settings(breakeven::SERVICE);
    spawn_with(settings).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let def = breakeven::definition_with(breakeven::Tracking::default());
    let service = RunningService::start(def, settings).await;
    TestApp { service }
}

impl TestApp {
    /// POSTs and expects a 422 naming `field`; returns the problem.
    pub async fn rejects(&self, path: &str, body: &Value, field: &str) -> Value {
        assert_problem(self.post_json(path, body).await, 422, field).await
    }

    /// POSTs and expects 201; returns the body.
    pub async fn create(&self, path: &str, body: &Value) -> Value {
        let resp = self.post_json(path, body).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    }

    /// PUTs with `If-Match: etag` (none when `None`).
    pub async fn put_if(&self, path: &str, body: &Value, etag: Option<&str>) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        req.send().await.expect("PUT sent")
    }

    /// POSTs with `Idempotency-Key: key`.
    pub async fn post_keyed(&self, path: &str, body: &Value, key: &str) -> reqwest::Response {
        let req = self.client.post(self.url(path)).json(body);
        req.header("idempotency-key", key)
            .send()
            .await
            .expect("POST sent")
    }

    /// GETs with `If-None-Match: etag`.
    pub async fn get_if_none_match(&self, path: &str, etag: &str) -> reqwest::Response {
        let req = self
            .client
            .get(self.url(path))
            .header("if-none-match", etag);
        req.send().await.expect("GET sent")
    }

    pub async fn tap(&self, pattern: &str) -> Tap {
        Tap::open(&self.service.settings.bus, pattern)
            .await
            .expect("tap opens")
    }

    /// Outbox rows of one event type (`campaign.at_risk` → the full routing key).
    pub async fn outbox_count(&self, event: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.breakeven.{event}.v1'"
        ))
        .await
    }

    /// Defines the campaign of [`campaign_body`].
    pub async fn campaign(&self, id: &str, product: &str) -> Value {
        self.create("/v1/campaigns", &campaign_body(id, product))
            .await
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

/// A campaign over the last 10 and next 20 days, budget 1,000 USD, selling `product` alone.
pub fn campaign_body(id: &str, product: &str) -> Value {
    let today = Utc::now().date_naive();
    json!({
        "id": id, "name": id, "budget": "1000", "currency": "USD",
        "starts_on": today.checked_sub_days(Days::new(10)).unwrap(),
        "ends_on": today.checked_add_days(Days::new(20)).unwrap(),
        "product_mix": [{"product_id": product, "share": "1"}]
    })
}

/// The service's own helpers (HTTP, publish, count) are the app's.
impl std::ops::Deref for TestApp {
    type Target = RunningService;
    fn deref(&self) -> &RunningService {
        &self.service
    }
}
