//! A won deal in the funnel and costs from touchpoints move a campaign's progress in the
//! break-even service; crossing fires `campaign.breakeven_reached` once.

use chrono::{Days, Duration, Utc};
use platform::bus::Tap;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_and_a_won_deal_carry_a_campaign_past_break_even() {
    let suite = Suite::new();
    let funnel = suite.start(funnel::definition()).await;
    let touchpoints = suite
        .start(touchpoints::definition().expect("touchpoints config"))
        .await;
    let breakeven = suite.start(breakeven::definition()).await;
    let mut tap = Tap::open(&breakeven.settings.bus, "touchstone.breakeven.campaign.#")
        .await
        .unwrap();

    // Price 100, variable cost 60: CM ratio 0.4, break-even ROAS 2.5.
    let product = suite
        .post(
            &breakeven,
            "/v1/products",
            &json!({"name": "birdbath", "price": "100", "variable_cost": "60", "currency": "USD"}),
        )
        .await;
    let today = Utc::now().date_naive();
    suite
        .post(
            &breakeven,
            "/v1/campaigns",
            &json!({"id": "autumn", "name": "autumn", "budget": "1000", "currency": "USD",
                    "starts_on": today.checked_sub_days(Days::new(10)).unwrap(),
                    "ends_on": today.checked_add_days(Days::new(20)).unwrap(),
                    "product_mix": [{"product_id": product["id"], "share": "1"}]}),
        )
        .await;

    // 400 of spend on paid clicks.
    let clicks: Vec<_> = (0..4)
        .map(|i| {
            json!({"occurred_at": (Utc::now() - Duration::hours(i)).to_rfc3339(),
                   "channel": "paid_search", "type": "click", "campaign_id": "autumn",
                   "anonymous_id": format!("a{i}"), "cost": "100", "currency": "USD"})
        })
        .collect();
    suite
        .post(&touchpoints, "/v1/touchpoints", &json!(clicks))
        .await;
    let b = suite
        .eventually(&breakeven, "/v1/campaigns/autumn/breakeven", |b| {
            b["spend"] == "400"
        })
        .await;
    assert_eq!(b["breakeven_reached"], false);

    // A deal won for 1,500 in the campaign: contribution 600 ≥ 400 spend.
    let deal = suite
        .post(
            &funnel,
            "/v1/deals",
            &json!({"funnel_id": B2B, "campaign_id": "autumn", "amount": "1500", "currency": "USD"}),
        )
        .await;
    suite
        .post(
            &funnel,
            &format!("/v1/deals/{}/transitions", deal["id"].as_str().unwrap()),
            &json!({"to_stage": "won"}),
        )
        .await;
    let b = suite
        .eventually(&breakeven, "/v1/campaigns/autumn/breakeven", |b| {
            b["breakeven_reached"] == true
        })
        .await;
    assert_eq!(b["attributed_revenue"], "1500");
    assert_eq!(b["contribution"], "600.00");

    let mut reached = 0;
    while let Some(d) = tap.next(std::time::Duration::from_secs(3)).await {
        let e: serde_json::Value = serde_json::from_slice(&d.data).unwrap();
        if e["type"] == "touchstone.breakeven.campaign.breakeven_reached.v1" {
            assert_eq!(e["data"]["campaign_id"], "autumn");
            reached += 1;
        }
    }
    assert_eq!(reached, 1);
}
