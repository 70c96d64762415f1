//! Scenarios: saved and versioned, compared, and bad ones written nowhere.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// A scenario of Hicks' figures at `price`.
pub fn scenario(name: &str, price: &str) -> Value {
    json!({"name": name, "inputs": {
        "currency": "USD", "fixed_costs": "18000", "price": price, "variable_cost": "60"
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_are_versioned_and_compared() {
    let app = spawn_app().await;
    let a = app.create("/v1/scenarios", &scenario("today", "100")).await;
    assert_eq!(a["version"], 1);
    assert_eq!(a["results"]["breakeven"]["units"], "450");
    let id = a["id"].as_str().unwrap();
    let resp = app
        .put_if(
            &format!("/v1/scenarios/{id}"),
            &scenario("today, dearer", "105"),
            Some("\"1\""),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let latest = app.get_json(&format!("/v1/scenarios/{id}")).await;
    assert_eq!(latest["version"], 2);
    let first = app.get_json(&format!("/v1/scenarios/{id}?version=1")).await;
    assert_eq!(first["inputs"]["price"], "100");

    let b = app
        .create("/v1/scenarios", &scenario("cheaper", "90"))
        .await;
    let resp = app
        .post_json(
            &format!("/v1/scenarios/{id}/compare"),
            &json!({"other_id": b["id"], "version": 1}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let cmp: Value = resp.json().await.unwrap();
    let units = cmp["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "breakeven.units")
        .unwrap();
    // 18,000 / 30 = 600 against 450.
    assert_eq!(units["base"], "450");
    assert_eq!(units["other"], "600");
    assert_eq!(units["difference"], "150");
    assert_eq!(units["change_percent"], "33.33");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_scenario_writes_nothing() {
    let app = spawn_app().await;
    // A price that is not a number, and one below the variable cost.
    for price in ["abc", "50"] {
        app.rejects("/v1/scenarios", &scenario("x", price), "inputs.price")
            .await;
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM scenarios").await, 0);
}
