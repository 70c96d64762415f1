//! `spawn_app()`: a leads service on a random port with its own database and broker names.

use std::time::Duration;

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
    let settings = namespace.settings(leads::SERVICE);
    spawn_with(settings).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let service = RunningService::start(leads::definition(), settings).await;
    TestApp { service }
}

impl TestApp {
    pub async fn post_lead(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/leads"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .await
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn tap(&self, pattern: &str) -> Tap {
        Tap::open(&self.service.settings.bus, pattern)
            .await
            .expect("tap opens")
    }

    /// Waits until the outbox is drained or `timeout` passes; returns the backlog left.
    pub async fn wait_outbox_drained(&self, timeout: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = self
                .count("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
                .await;
            if left == 0 || tokio::time::Instant::now() > deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn lead_body(email: &str) -> Value {
    json!({"email": email, "source": "webinar", "first_name": "Ada", "company": "Analytical Engines"})
}

impl TestApp {
    pub async fn create(&self, body: &Value) -> Value {
        let resp = self.post_lead(body).await;
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    pub async fn patch(
        &self,
        path: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.patch(self.url(path)).json(body);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        req.send().await.unwrap()
    }

    pub async fn move_to(&self, id: &str, stage: &str, reason: Option<&str>) -> reqwest::Response {
        self.post_json(
            &format!("/v1/leads/{id}/lifecycle"),
            &json!({"to_stage": stage, "reason": reason}),
        )
        .await
    }

    /// A PUT with `If-Match: if_match`, or without the header.
    pub async fn put_if(
        &self,
        path: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        req.send().await.unwrap()
    }

    /// The ETag a GET of `path` answers with.
    pub async fn etag(&self, path: &str) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        resp.headers()["etag"].to_str().unwrap().to_string()
    }

    /// A PUT of the next scoring model, under the current model's ETag.
    pub async fn put_model(&self, model: &Value) -> reqwest::Response {
        let tag = self.etag("/v1/scoring-model").await;
        self.put_if("/v1/scoring-model", Some(&tag), model).await
    }

    /// Replaces the scoring model with a small one whose numbers the tests work out by hand.
    pub async fn use_test_model(&self) {
        let resp = self.put_model(&test_model()).await;
        assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    }
}

/// Fit: title containing "vp" 40, target account 30. Engagement: meeting 25, form_submit 10,
/// half-life 30 days. Fit bands A ≥ 60, B ≥ 30; engagement bands 1 ≥ 50, 2 ≥ 20.
/// MQL at fit ≥ 30 and engagement ≥ 20.
pub fn test_model() -> Value {
    json!({
        "fit_rules": [
            {"name": "vp title", "attribute": "title", "contains_any": ["vp"], "points": 40.0},
            {"name": "target account", "attribute": "abm_target", "equals": true, "points": 30.0}
        ],
        "engagement_points": [
            {"touch_type": "meeting", "channel": null, "points": 25.0},
            {"touch_type": "form_submit", "channel": null, "points": 10.0}
        ],
        "half_life_days": 30.0,
        "fit_bands": {"a": 60.0, "b": 30.0},
        "engagement_bands": {"a": 50.0, "b": 20.0},
        "mql": {"min_fit": 30.0, "min_engagement": 20.0}
    })
}

/// The service's own helpers (HTTP, publish, count) are the app's.
impl std::ops::Deref for TestApp {
    type Target = RunningService;
    fn deref(&self) -> &RunningService {
        &self.service
    }
}
