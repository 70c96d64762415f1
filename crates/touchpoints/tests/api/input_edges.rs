//! Odd input that schemathesis (or a probe after it) turned up: each case was a 500, or an
//! answer that broke its own schema, before it became the 4xx asserted here.

use serde_json::{Value, json};

use crate::helpers::*;
use platform::testing::assert_problem;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_has_no_fault_a_fuzzer_trips_over() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    // One touch or an array of them, and either answer on 200 and 201.
    let op = &doc["paths"]["/v1/touchpoints"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TouchpointsBody"
    );
    for code in ["200", "201"] {
        assert_eq!(
            op["responses"][code]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/IngestOutcome"
        );
    }
    let body = &doc["components"]["schemas"]["TouchpointsBody"]["oneOf"];
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_before_4713_bc_and_nul_characters_are_422s() {
    let app = spawn_app().await;
    let old = touch(
        "-5000-01-01T00:00:00Z",
        "email",
        "click",
        json!({"anonymous_id": "a"}),
    );
    let resp = app.post_json("/v1/touchpoints", &old).await;
    assert_problem(resp, 422, "occurred_at").await;
    let nul = touch(
        "2026-01-01T00:00:00Z",
        "email",
        "click",
        json!({"anonymous_id": "a\u{0}"}),
    );
    let resp = app.post_json("/v1/touchpoints", &json!([nul])).await;
    assert_problem(resp, 422, "[0].anonymous_id").await;
    let resp = app.get("/v1/affiliates/a%00b").await;
    assert_problem(resp, 422, "id").await;
    app.assert_stored(0, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_amounts_past_a_decimal_are_refused() {
    let app = spawn_app().await;
    // Their sums were infinite, and the report answered `null` where it promises numbers.
    let body = json!({"paths": [
        {"path": ["a", "b"], "conversions": 1e308, "value": 1e308},
        {"path": ["b"], "conversions": 1.7e308}
    ]});
    let resp = app.post_json("/v1/attribution/compute", &body).await;
    assert_problem(resp, 422, "paths[0].conversions").await;
    let body = json!({"paths": [{"path": ["a", "b"], "conversions": 7e28, "value": 7e28}]});
    let resp = app.post_json("/v1/attribution/compute", &body).await;
    assert_eq!(resp.status().as_u16(), 200);
    let report: Value = resp.json().await.unwrap();
    assert!(report["total_conversions"].is_number(), "{report}");
}
