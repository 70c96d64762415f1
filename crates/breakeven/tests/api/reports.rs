//! The campaign profitability report in its three formats.

use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_profitability_as_json_csv_and_parquet() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.campaign("spring", &product).await;
    let rows: Value = app
        .get_json("/v1/reports/campaign-profitability?format=json")
        .await;
    assert_eq!(rows[0]["campaign_id"], "spring");
    assert_eq!(rows[0]["breakeven_roas"], "2.5");
    assert_eq!(rows[0]["defined"], true);

    let csv = app
        .get("/v1/reports/campaign-profitability?format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("campaign_id,name,defined,currency,budget,spend"),
        "{csv}"
    );
    let parquet = app
        .get("/v1/reports/campaign-profitability?format=parquet")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(parquet.starts_with(b"PAR1"));
    let resp = app
        .get("/v1/reports/campaign-profitability?format=xlsx")
        .await;
    assert_problem(resp, 422, "format").await;
}
