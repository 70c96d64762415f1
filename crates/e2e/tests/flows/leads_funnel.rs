//! A lead created in the leads service opens a deal in the funnel; winning the deal makes
//! the lead a customer.

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_lead_opens_a_deal_and_winning_it_makes_a_customer() {
    let suite = Suite::new();
    let leads = suite.start(leads::definition()).await;
    let funnel = suite.start(funnel::definition()).await;

    let lead_id = suite
        .create_lead(
            &leads,
            &json!({"email": "ada@engines.example", "source": "webinar", "campaign_id": "spring"}),
        )
        .await;

    let deal = suite.deal_of_lead(&funnel, &lead_id).await;
    assert_eq!(deal["funnel_id"], B2B);
    assert_eq!(deal["stage"], "lead");
    assert_eq!(deal["campaign_id"], "spring");
    let deal_id = deal["id"].as_str().unwrap().to_string();

    // An open deal still in the `lead` stage does not make the lead an opportunity.
    let l = suite.get(&leads, &format!("/v1/leads/{lead_id}")).await;
    assert_eq!(l["lifecycle_stage"], "lead");

    suite
        .post(
            &funnel,
            &format!("/v1/deals/{deal_id}/transitions"),
            &json!({"to_stage": "won", "amount": "4800.00", "currency": "EUR", "reason": "signed"}),
        )
        .await;
    suite
        .eventually(&leads, &format!("/v1/leads/{lead_id}"), |l| {
            l["lifecycle_stage"] == "customer"
        })
        .await;
    // The lead's lifecycle events come back to the funnel and change nothing there.
    let log = suite
        .get(&funnel, &format!("/v1/deals/{deal_id}/transitions"))
        .await;
    let stages: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to_stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["lead", "won"]);
}
