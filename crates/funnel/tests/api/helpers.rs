//! `spawn_app()`: a funnel service on a random port with its own database and broker names.

use std::time::Duration;

use platform::bus::Tap;
pub use platform::testing::assert_problem;
use platform::testing::{RunningService, TestNamespace};
use serde_json::{Value, json};

/// The seeded B2B funnel: lead → mql → sql → opportunity → won.
pub const B2B: &str = "00000000-0000-4000-8000-00000000b2b0";
/// The seeded marketing funnel: awareness → … → purchase.
pub const MARKETING: &str = "00000000-0000-4000-8000-0000000000a1";

pub struct TestApp {
    pub service: RunningService,
}

pub async fn spawn_app() -> TestApp {
    let settings = TestNamespace::new().settings(funnel::SERVICE);
    TestApp {
        service: RunningService::start(funnel::definition(), settings).await,
    }
}

impl TestApp {
    /// Opens a deal and returns it.
    pub async fn deal(&self, body: Value) -> Value {
        let resp = self.post_json("/v1/deals", &body).await;
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    pub async fn transition(&self, deal: &str, body: Value) -> reqwest::Response {
        self.post_json(&format!("/v1/deals/{deal}/transitions"), &body)
            .await
    }

    /// Moves a deal and insists it worked.
    pub async fn move_ok(&self, deal: &str, body: Value) -> Value {
        let resp = self.transition(deal, body).await;
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    pub async fn import(&self, funnel: &str, ndjson: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(self.url(&format!("/v1/funnels/{funnel}/events")))
            .header("content-type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    /// Listens to the service's events whose routing key matches `pattern`.
    pub async fn tap(&self, pattern: &str) -> Tap {
        Tap::open(&self.service.settings.bus, pattern)
            .await
            .unwrap()
    }

    /// A deal's log as the API answers it, in one page of up to 500 moves.
    pub async fn log(&self, deal: &str) -> Value {
        let page = self
            .get_json(&format!("/v1/deals/{deal}/transitions?limit=500"))
            .await;
        assert!(page["next_cursor"].is_null(), "a log over one page: {page}");
        page
    }

    /// `PUT path` with `If-Match: "<etag>"`.
    pub async fn put_if_match(&self, path: &str, etag: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .header("if-match", etag)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// An NDJSON import as sent, with an `Idempotency-Key` when given.
    pub async fn import_raw(
        &self,
        funnel: &str,
        key: Option<&str>,
        ndjson: Vec<u8>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/v1/funnels/{funnel}/events")))
            .header("content-type", "application/x-ndjson");
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        req.body(ndjson).send().await.unwrap()
    }
}

/// Runs the rebuild command against the app's database; returns the deals it corrected.
pub async fn rebuild(app: &TestApp) -> usize {
    let settings = app.service.settings.clone();
    tokio::task::spawn_blocking(move || funnel::rebuild_projections(&settings))
        .await
        .unwrap()
        .unwrap()
}

/// The next event a tap sees, as JSON.
pub async fn next_event(tap: &mut Tap) -> Value {
    let d = tap.next(Duration::from_secs(10)).await.expect("an event");
    serde_json::from_slice(&d.data).unwrap()
}

/// The string `field` of each item of `list`.
pub fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

pub fn b2b_deal() -> Value {
    json!({"funnel_id": B2B, "amount": "1000.00", "currency": "EUR", "owner": "ann"})
}

/// The service's own helpers (HTTP, publish, count) are the app's.
impl std::ops::Deref for TestApp {
    type Target = RunningService;
    fn deref(&self) -> &RunningService {
        &self.service
    }
}
