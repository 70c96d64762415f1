//! The campaign profitability report: JSON a page at a time, CSV and Parquet whole.

use serde_json::Value;

use crate::alerts::cost;
use crate::helpers::{assert_problem, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_profitability_as_json_csv_and_parquet() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.campaign("spring", &product).await;
    let page: Value = app
        .get_json("/v1/reports/campaign-profitability?format=json")
        .await;
    assert_eq!(page["items"][0]["campaign_id"], "spring");
    assert_eq!(page["items"][0]["breakeven_roas"], "2.5");
    assert_eq!(page["items"][0]["defined"], true);
    assert_eq!(page["items"][0]["budget"], "1000");
    assert_eq!(page["items"][0]["profit"], "0");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_cursor"], Value::Null);

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

/// Three defined campaigns and one only a cost event named, two to a page: the defined
/// first, then by id, the same order as the CSV, which holds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_pages_in_the_order_of_the_files() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    for id in ["c", "a", "b"] {
        app.campaign(id, &product).await;
    }
    app.publish(&cost("0-unplanned", 25)).await;
    app.wait_count(
        "SELECT count(*) AS n FROM campaign_spend WHERE campaign_id = '0-unplanned'",
        1,
    )
    .await;

    let path = "/v1/reports/campaign-profitability";
    let first = app.get_json(&format!("{path}?limit=2")).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["campaign_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first), ["a", "b"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!("{path}?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second), ["c", "0-unplanned"]);
    assert_eq!(second["items"][1]["defined"], false);
    assert_eq!(second["items"][1]["spend"], "25");
    assert_eq!(second["items"][1]["name"], Value::Null);
    assert_eq!(second["next_cursor"], Value::Null);

    let csv = app
        .get(&format!("{path}?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    let csv_ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(csv_ids, ["a", "b", "c", "0-unplanned"]);

    // The files are whole: paging them is refused, as is anything unknown.
    let paged_parquet = format!("format=parquet&cursor={cursor}");
    for (query, field) in [
        ("format=csv&limit=2", "limit"),
        (paged_parquet.as_str(), "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("sort=spend", "sort"),
    ] {
        let resp = app.get(&format!("{path}?{query}")).await;
        assert_problem(resp, 422, field).await;
    }
}
