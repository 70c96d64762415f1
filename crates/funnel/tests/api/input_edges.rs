//! Odd input that schemathesis (or a probe after it) turned up: each case was a 500 or a
//! plain-text 400 before it became the problem (or rejected line) asserted here.

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_has_no_fault_a_fuzzer_trips_over() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    let params = doc["paths"]["/v1/deals"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_funnel_version_beyond_i32_is_a_problem_naming_it() {
    let app = spawn_app().await;
    // actix's typed query answered this with a plain-text 400.
    let resp = app
        .get(&format!("/v1/funnels/{B2B}?version=2147483648"))
        .await;
    assert_problem(resp, 422, "version").await;
    let resp = app.get(&format!("/v1/funnels/{B2B}?version=1")).await;
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_and_years_postgresql_cannot_store_are_refused() {
    let app = spawn_app().await;
    let resp = app
        .post_json(
            "/v1/funnels",
            &json!({"name": "a\u{0}b", "stages": [{"name": "x"}, {"name": "y"}]}),
        )
        .await;
    assert_problem(resp, 422, "name").await;
    let mut deal = b2b_deal();
    deal["opened_at"] = json!("-5000-01-01T00:00:00Z");
    assert_problem(app.post_json("/v1/deals", &deal).await, 422, "opened_at").await;
    let resp = app.get("/v1/deals?stage=a%00b").await;
    assert_problem(resp, 422, "stage").await;

    let body = concat!(
        r#"{"external_id":"N","stage":"lead","at":"2026-01-05T10:00:00Z","reason":"a\u0000b"}"#,
        "\n",
        r#"{"external_id":"O","stage":"lead","at":"-5000-01-05T10:00:00Z"}"#,
        "\n",
        r#"{"external_id":"P","stage":"lead","at":"2026-01-05T10:00:00Z"}"#,
        "\n",
    );
    let result = app.import(B2B, body.as_bytes().to_vec()).await;
    assert_eq!(result["accepted"], 1, "{result}");
    assert_eq!(result["rejected"], 2, "{result}");
    let errors = result["errors"].as_array().unwrap();
    assert!(
        errors[0]["error"].as_str().unwrap().contains("reason"),
        "{result}"
    );
    assert!(
        errors[1]["error"]
            .as_str()
            .unwrap()
            .contains("0000 to 9999"),
        "{result}"
    );
}
