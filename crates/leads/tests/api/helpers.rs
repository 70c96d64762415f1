//! `spawn_app()`: a leads service on a random port with its own database and broker names.

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
    let settings = namespace.settings(leads::SERVICE);
    spawn_with(settings).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let service = RunningService::start(leads::definition(), settings).await;
    TestApp {
        service,
        client: reqwest::Client::new(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.service.url(path)
    }

    pub async fn post_lead(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/leads"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn tap(&self, pattern: &str) -> Tap {
        Tap::open(&self.service.settings.bus, pattern)
            .await
            .expect("tap opens")
    }

    /// Runs a scalar count query against this test's database.
    pub async fn count(&self, sql: &'static str) -> i64 {
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
