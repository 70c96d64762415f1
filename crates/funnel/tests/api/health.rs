//! The platform endpoints as the funnel serves them: readiness and its OpenAPI document.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_and_openapi_lists_the_funnel_endpoints() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
    let doc = app.get_json("/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/funnels",
        "/v1/funnels/{id}",
        "/v1/funnels/{id}/events",
        "/v1/funnels/{id}/report",
        "/v1/funnels/{id}/report.svg",
        "/v1/deals",
        "/v1/deals/{id}",
        "/v1/deals/{id}/transitions",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["TransitionInput"].is_object());
}
