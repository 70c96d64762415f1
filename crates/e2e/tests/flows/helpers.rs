//! A suite of services sharing one test namespace, and polling helpers.

use std::time::Duration;

use platform::testing::{RunningService, TestNamespace};
use platform::{ServiceDefinition, Settings};
use serde_json::Value;

pub const B2B: &str = "00000000-0000-4000-8000-00000000b2b0";

pub struct Suite {
    namespace: TestNamespace,
}

impl Suite {
    pub fn new() -> Suite {
        Suite {
            namespace: TestNamespace::new(),
        }
    }

    pub async fn start(&self, def: ServiceDefinition) -> RunningService {
        let settings = self.settings(def.name);
        RunningService::start(def, settings).await
    }

    /// The settings a service of this suite starts with, to change before
    /// [`RunningService::start`].
    pub fn settings(&self, service: &str) -> Settings {
        self.namespace.settings(service)
    }

    pub async fn post(&self, svc: &RunningService, path: &str, body: &Value) -> Value {
        let resp = svc.post_json(path, body).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    pub async fn get(&self, svc: &RunningService, path: &str) -> Value {
        svc.get_json(path).await
    }

    /// Creates a lead; returns its id.
    pub async fn create_lead(&self, leads: &RunningService, body: &Value) -> String {
        let lead = self.post(leads, "/v1/leads", body).await;
        lead["id"].as_str().unwrap().to_string()
    }

    /// The one deal `lead.created` opens in the funnel for the lead, once it is there.
    pub async fn deal_of_lead(&self, funnel: &RunningService, lead_id: &str) -> Value {
        let deals = self
            .eventually(funnel, &format!("/v1/deals?lead_id={lead_id}"), |b| {
                b["items"].as_array().is_some_and(|a| a.len() == 1)
            })
            .await;
        deals["items"][0].clone()
    }

    /// Polls `GET path` until `done` holds (up to 20 s); returns the last body.
    pub async fn eventually(
        &self,
        svc: &RunningService,
        path: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let body = self.get(svc, path).await;
            if done(&body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "GET {path} never got there: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
