//! Products, fixed costs and campaigns: CRUD, and bad input that writes nothing.

use serde_json::json;

use crate::helpers::{assert_problem, campaign_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_fixed_costs_and_campaigns_round_trip() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    let got = app.get_json(&format!("/v1/products/{product}")).await;
    assert_eq!(got["contribution_margin"], "40");
    let resp = app
        .put_if(
            &format!("/v1/products/{product}"),
            &json!({"name": "Blue Jay", "price": "110", "variable_cost": "60", "currency": "USD"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let list = app.get_json("/v1/products").await;
    assert_eq!(list["items"][0]["version"], 2);

    let cost = app
        .create(
            "/v1/fixed-costs",
            &json!({"name": "rent", "amount": "36000", "period": "year", "currency": "USD"}),
        )
        .await;
    assert_eq!(cost["monthly_amount"], "3000.00");

    let mut campaign = campaign_body("spring-25", &product);
    campaign["budget"] = json!("5000");
    let c = app.create("/v1/campaigns", &campaign).await;
    assert_eq!(c["risk_threshold"], "0.5");
    let resp = app.post_json("/v1/campaigns", &campaign).await;
    let problem = assert_problem(resp, 409, "").await;
    assert_eq!(problem["existing_id"], "spring-25");
    let mut changed = campaign.clone();
    changed["budget"] = json!("6000");
    let resp = app
        .put_if("/v1/campaigns/spring-25", &changed, Some("\"1\""))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let got = app.get_json("/v1/campaigns/spring-25").await;
    assert_eq!(
        (got["budget"].as_str(), got["version"].as_i64()),
        (Some("6000"), Some(2))
    );
    let b = app.get_json("/v1/campaigns/spring-25/breakeven").await;
    assert_eq!(b["spend"], "0");
    assert_eq!(b["breakeven_roas"], "2.2");
    assert_eq!(
        app.get("/v1/campaigns/nope/breakeven")
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_422s_and_write_nothing() {
    let app = spawn_app().await;
    for (price, variable_cost, field) in [("abc", "1", "price"), ("1", "-1", "variable_cost")] {
        let product =
            json!({"name": "x", "price": price, "variable_cost": variable_cost, "currency": "USD"});
        app.rejects("/v1/products", &product, field).await;
    }
    let rent = json!({"name": "rent", "amount": "10", "period": "week", "currency": "USD"});
    app.rejects("/v1/fixed-costs", &rent, "period").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM products").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM fixed_costs").await, 0);

    let product = app.birdbath().await;
    let mut shares_short = campaign_body("c1", &product);
    shares_short["product_mix"][0]["share"] = json!("0.7");
    app.rejects("/v1/campaigns", &shares_short, "product_mix")
        .await;
    let mut in_euro = campaign_body("c1", &product);
    in_euro["currency"] = json!("EUR");
    app.rejects("/v1/campaigns", &in_euro, "product_mix[0].product_id")
        .await;
    assert_eq!(app.count("SELECT count(*) AS n FROM campaigns").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox").await, 0);
}
