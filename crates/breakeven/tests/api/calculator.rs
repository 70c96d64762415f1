//! The calculator and the chart over HTTP: worked examples, every bad input's 422.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

fn hicks() -> Value {
    json!({"currency": "USD", "fixed_costs": "18000", "price": "100", "variable_cost": "60"})
}

/// OpenStax ch. 3, Hicks Manufacturing (see the unit tests in domain::cvp for the
/// arithmetic): BEP 450 units / $45,000; $16,000 profit needs 850 units.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hicks_over_http() {
    let app = spawn_app().await;
    let mut body = hicks();
    body["actual_units"] = json!("1000");
    body["target_profit"] = json!("16000");
    body["marketing"] =
        json!({"average_order_value": "80", "other_variable_costs": "6", "target_roas": "4"});
    body["products"] = json!([
        {"name": "birdbath", "price": "100", "variable_cost": "60", "mix": "0.6"},
        {"name": "feeder", "price": "150", "variable_cost": "90", "mix": "0.4", "currency": "USD"}
    ]);
    let resp = app.post_json("/v1/breakeven/calculate", &body).await;
    assert_eq!(resp.status().as_u16(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["unit"]["contribution_margin"], "40.00");
    assert_eq!(out["unit"]["contribution_margin_ratio"], "0.4");
    assert_eq!(out["breakeven"]["units"], "450");
    assert_eq!(out["breakeven"]["revenue"], "45000.00");
    assert_eq!(out["margin_of_safety"]["percent"], "55.00");
    assert_eq!(out["target_profit"]["units"], "850");
    assert_eq!(out["operating_leverage"]["degree"], "1.818182");
    assert_eq!(out["marketing"]["breakeven_roas"], "2.5");
    assert_eq!(out["marketing"]["breakeven_cpa"], "26.00");
    assert_eq!(out["marketing"]["allowable_cpa"], "20.00");
    // 18,000 / (0.6 × 40 + 0.4 × 60 = 48) = 375 composite units: 225 and 150.
    assert_eq!(out["sales_mix"]["composite_units"], "375");
    assert_eq!(out["sales_mix"]["products"][1]["units"], "150");
    assert!(out.get("sensitivity").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_is_a_422_naming_its_field() {
    let app = spawn_app().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"price": "-1"}), "price"),
        (json!({"fixed_costs": "ten"}), "fixed_costs"),
        (json!({"variable_cost": ""}), "variable_cost"),
        (json!({"currency": "usd"}), "currency"),
        (json!({"price": 100}), "price"),
        (json!({"target_profit": "-5"}), "target_profit"),
        (
            json!({"products": [
                {"price": "10", "variable_cost": "5", "mix": "0.5"},
                {"price": "10", "variable_cost": "5", "mix": "0.4"}]}),
            "products",
        ),
        (
            json!({"products": [{"price": "10", "variable_cost": "5", "mix": "1", "currency": "EUR"}]}),
            "products[0].currency",
        ),
        (
            json!({"marketing": {"gross_margin": "1.5"}}),
            "marketing.gross_margin",
        ),
        (
            json!({"sensitivity": {"range_percent": "50", "step_percent": "0.1"}}),
            "sensitivity.step_percent",
        ),
        (json!({"surprise": "1"}), "surprise"),
    ];
    for (patch, field) in cases {
        let mut body = hicks();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.rejects("/v1/breakeven/calculate", &body, field).await;
    }
    app.rejects(
        "/v1/breakeven/calculate",
        &json!({"price": "1"}),
        "currency",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_not_above_variable_cost_is_unreachable_never_infinite() {
    let app = spawn_app().await;
    for price in ["60", "50"] {
        let mut body = hicks();
        body["price"] = json!(price);
        let p = app.rejects("/v1/breakeven/calculate", &body, "price").await;
        assert_eq!(
            p["title"],
            "contribution margin is not positive: break-even is unreachable"
        );
        let text = p.to_string();
        assert!(!text.contains("inf") && !text.contains("NaN"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_is_an_svg_with_the_point_marked() {
    let app = spawn_app().await;
    let resp = app
        .get("/v1/breakeven/chart.svg?currency=USD&fixed_costs=18000&price=100&variable_cost=60")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = resp.text().await.unwrap();
    assert!(svg.contains("Break-even: 450 units"));
    assert!(svg.contains("class=\"loss\"") && svg.contains("class=\"profit\""));

    let resp = app
        .get("/v1/breakeven/chart.svg?currency=USD&fixed_costs=18000&price=50&variable_cost=60")
        .await;
    assert_problem(resp, 422, "price").await;
    let resp = app
        .get("/v1/breakeven/chart.svg?currency=USD&price=100&variable_cost=60")
        .await;
    assert_problem(resp, 422, "fixed_costs").await;
}
