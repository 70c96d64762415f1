//! Anonymous touches, then a lead, then a deal won in the funnel: the lead's journey in the
//! touchpoints service ends in a conversion made of those touches.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touches_then_lead_then_won_deal_give_a_converting_journey() {
    let suite = Suite::new();
    let leads = suite.start(leads::definition()).await;
    let funnel = suite.start(funnel::definition()).await;
    let touchpoints = suite
        .start(touchpoints::definition().expect("touchpoints config"))
        .await;

    let anon = format!("anon-{}", uuid::Uuid::now_v7());
    let now = Utc::now();
    let touches: Vec<_> = [
        ("display", "impression", 3),
        ("paid_search", "click", 2),
        ("organic_search", "visit", 1),
    ]
    .iter()
    .map(|(channel, ty, days)| {
        json!({"occurred_at": (now - Duration::days(*days)).to_rfc3339(), "channel": channel,
                   "type": ty, "anonymous_id": anon, "campaign_id": "spring"})
    })
    .collect();
    suite
        .post(&touchpoints, "/v1/touchpoints", &json!(touches))
        .await;

    let lead_id = suite
        .create_lead(
            &leads,
            &json!({"email": "grace@navy.example", "source": "webinar", "anonymous_id": anon}),
        )
        .await;
    let deal = suite.deal_of_lead(&funnel, &lead_id).await;
    let deal_id = deal["id"].as_str().unwrap().to_string();
    suite
        .post(
            &funnel,
            &format!("/v1/deals/{deal_id}/transitions"),
            &json!({"to_stage": "won", "amount": "900", "currency": "EUR"}),
        )
        .await;

    let journey = suite
        .eventually(&touchpoints, &format!("/v1/leads/{lead_id}/journey"), |j| {
            j["conversions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["kind"] == "won"))
        })
        .await;
    let touches = journey["touches"]["items"].as_array().unwrap();
    assert_eq!(touches.len(), 3, "{journey}");
    let channels: Vec<&str> = touches
        .iter()
        .map(|t| t["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["display", "paid_search", "organic_search"]);
    let won = journey["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "won")
        .unwrap();
    assert_eq!(won["deal_id"], deal_id);
    assert_eq!(won["value"], "900");
    assert_eq!(won["journey"].as_array().unwrap().len(), 3);
}
