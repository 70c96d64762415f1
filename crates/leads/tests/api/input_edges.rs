//! Odd input that schemathesis (or a probe after it) turned up: each case was a 500, or an
//! answer that broke its own schema, before it became the 4xx (or 200) asserted here.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, lead_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_has_no_fault_a_fuzzer_trips_over() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    // The list filters are query parameters (they were declared required path parameters).
    let params = doc["paths"]["/v1/leads"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
    // The rule and the model are answered with their version.
    let rule = &doc["paths"]["/v1/qualification-rule"]["get"]["responses"]["200"];
    assert_eq!(
        rule["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RuleResponse"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_422s_naming_the_field() {
    let app = spawn_app().await;
    let resp = app.get("/v1/leads?q=a%00b").await;
    assert_problem(resp, 422, "q").await;
    let mut body = lead_body("nul@example.com");
    body["properties"] = json!({"note": "a\u{0}b"});
    assert_problem(app.post_lead(&body).await, 422, "properties.note").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 0);
}

fn model(points: f64, half_life_days: f64) -> Value {
    json!({
        "fit_rules": [
            {"name": "any", "attribute": "abm_target", "equals": false, "points": points},
            {"name": "again", "attribute": "abm_target", "equals": false, "points": points}
        ],
        "engagement_points": [{"touch_type": "click", "points": 1}],
        "half_life_days": half_life_days,
        "fit_bands": {"a": 50, "b": 25},
        "engagement_bands": {"a": 40, "b": 10},
        "mql": {"min_fit": 25, "min_engagement": 10}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_model_points_and_half_life_are_bounded() {
    let app = spawn_app().await;
    // Two rules of 1.7e308 summed to an infinite fit score, answered as `null`.
    let resp = app.put_model(&model(1.7e308, 30.0)).await;
    assert_problem(resp, 422, "fit_rules[0].points").await;
    // A half-life of 1e-300 days made every report's decay overflow in PostgreSQL (a 500).
    let resp = app.put_model(&model(10.0, 1e-300)).await;
    assert_problem(resp, 422, "half_life_days").await;
    let resp = app.put_model(&model(1e6, 0.01)).await;
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    let lead = app.create(&lead_body("big@example.com")).await;
    assert!(lead["fit_score"].is_number(), "{lead}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_survive_engagement_decayed_over_thousands_of_half_lives() {
    let app = spawn_app().await;
    app.create(&lead_body("old@example.com")).await;
    // Engagement last decayed in year 1: 2^-(age / 30 days) underflowed, which PostgreSQL
    // raises as an error, and the report was a 500.
    let n = app
        .count(
            "WITH u AS (UPDATE leads SET engagement = 1e-200, \
             engagement_as_of = '0001-01-01T00:00:00Z' RETURNING 1) SELECT count(*) AS n FROM u",
        )
        .await;
    assert_eq!(n, 1);
    for path in [
        "/v1/reports/lead-quality",
        "/v1/reports/score-distribution",
        "/v1/reports/abm-engagement",
    ] {
        let resp = app.get(path).await;
        assert_eq!(
            resp.status().as_u16(),
            200,
            "{path}: {:?}",
            resp.text().await
        );
    }
}
