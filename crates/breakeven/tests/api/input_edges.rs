//! Odd input that schemathesis (or a probe after it) turned up: each case was accepted and
//! then broke the schema of the answers that carry it, or was answered with an
//! undocumented status, before it became the 422 asserted here.

use serde_json::json;

use crate::helpers::{assert_problem, campaign_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_has_no_fault_a_fuzzer_trips_over() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    // A malformed campaign id is a 422 the document declares.
    let get = &doc["paths"]["/v1/campaigns/{id}"]["get"]["responses"];
    assert!(get.get("422").is_some(), "{get}");
    let resp = app.get("/v1/campaigns/a%20b").await;
    assert_problem(resp, 422, "id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_outside_four_digit_years_are_422s() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    // chrono reads `+262142-12-31`, which RFC 3339 (the documented `date`) cannot write.
    let mut campaign = campaign_body("far", &product);
    campaign["ends_on"] = json!("+262142-12-31");
    app.rejects("/v1/campaigns", &campaign, "ends_on").await;
    let calc = json!({
        "currency": "USD", "fixed_costs": "100", "price": "2", "variable_cost": "1",
        "projection": {"monthly_units": "1", "start": "-0001-01-01"}
    });
    app.rejects("/v1/breakeven/calculate", &calc, "projection.start")
        .await;
}
