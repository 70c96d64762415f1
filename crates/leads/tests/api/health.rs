//! Health, metrics, request ids and the OpenAPI document.

use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{lead_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_readiness_and_metrics() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status().as_u16(), 200);
    // The relay connects asynchronously; readiness follows within a moment.
    let mut ready = 0;
    for _ in 0..50 {
        ready = app.get("/health/ready").await.status().as_u16();
        if ready == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready, 200);

    app.post_lead(&lead_body("m@example.com")).await;
    let text = app.metrics().await;
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/v1/leads",service="leads",status="201"} 1"#
        ) || text.contains(
            r#"http_requests_total{method="POST",route="/v1/leads",status="201",service="leads"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert_eq!(
        app.wait_outbox_drained(std::time::Duration::from_secs(10))
            .await,
        0
    );
    let text = app.metrics().await;
    assert!(text.contains("events_published_total{"), "{text}");
    assert!(text.contains("outbox_backlog{"), "{text}");
    assert!(text.contains("publish_lag_seconds_bucket{"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_503_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    let name = app.service.settings.database.name.clone();
    let admin = app.service.settings.database.maintenance_url();
    let toggle = move |allow: bool| {
        let admin = admin.clone();
        let name = name.clone();
        std::thread::spawn(move || {
            use secrecy::ExposeSecret;
            let mut conn = PgConnection::establish(admin.expose_secret()).unwrap();
            diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allow}"))
                .execute(&mut conn)
                .unwrap();
            if !allow {
                diesel::sql_query(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .execute(&mut conn)
                .unwrap();
            }
        })
        .join()
        .unwrap()
    };
    toggle(false);
    let resp = app.get("/health/ready").await;
    assert_eq!(resp.status().as_u16(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "down");
    // Writes fail cleanly too: a problem saying to retry, not a hang and not a 500.
    let resp = app.post_lead(&lead_body("x@example.com")).await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(resp.headers()["retry-after"], "1");
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://touchstone.dev/problems/unavailable"
    );
    toggle(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app.get("/health/live").await;
    let generated = resp.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_the_lead_endpoints() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/leads"]["post"].is_object());
    assert!(doc["paths"]["/v1/leads"]["get"].is_object());
    assert!(doc["paths"]["/v1/leads/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let docs = app.get("/docs").await;
    assert_eq!(docs.status().as_u16(), 200);
    let unknown = app.get("/nope").await;
    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(
        unknown.headers()["content-type"],
        "application/problem+json"
    );
}
