//! Journeys: ordered touches and conversions (won, lost, micro) with their lookback window.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::events::{deal_lost, deal_won};
use crate::helpers::{spawn_app, touch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_lists_ordered_touches_and_the_touches_of_each_conversion() {
    let app = spawn_app().await;
    let lead = Uuid::now_v7();
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    // Sent out of order; the won deal is on 2026-06-01, so the 90-day window starts 2026-03-03.
    app.ingest(&[
        touch(
            "2026-05-01T00:00:00Z",
            "webinar",
            "form_submit",
            json!({"id": ids[2], "lead_id": lead}),
        ),
        touch(
            "2026-03-02T23:59:59Z",
            "display",
            "click",
            json!({"id": ids[0], "lead_id": lead}),
        ),
        touch(
            "2026-06-02T00:00:00Z",
            "direct",
            "visit",
            json!({"id": ids[4], "lead_id": lead}),
        ),
        touch(
            "2026-03-03T00:00:00Z",
            "paid_search",
            "click",
            json!({"id": ids[1], "lead_id": lead}),
        ),
        touch(
            "2026-06-01T00:00:00Z",
            "email",
            "email_click",
            json!({"id": ids[3], "lead_id": lead}),
        ),
    ])
    .await;
    let (won, lost) = (Uuid::now_v7(), Uuid::now_v7());
    app.publish(&deal_won(won, lead, "1200.50", "2026-06-01T00:00:00Z"))
        .await;
    app.publish(&deal_lost(lost, lead, "2026-05-15T00:00:00Z"))
        .await;
    app.wait_inbox(2).await;

    let j = app.get_json(&format!("/v1/leads/{lead}/journey")).await;
    let order: Vec<&str> = j["touches"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(order, expected);
    assert_eq!(j["touches"]["next_cursor"], Value::Null);
    assert_eq!(j["lookback_days"], 90);
    let conversions = j["conversions"].as_array().unwrap();
    let kinds: Vec<&str> = conversions
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["micro", "lost", "won"]);
    let journey = |i: usize| -> Vec<String> {
        conversions[i]["journey"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    // Won: from the window's first instant up to the win itself, nothing after.
    assert_eq!(journey(2), expected[1..4].to_vec());
    assert_eq!(conversions[2]["value"], "1200.50");
    assert_eq!(conversions[2]["currency"], "EUR");
    // Lost (a null path): the touches before it.
    assert_eq!(journey(1), expected[0..3].to_vec());
    // The micro-conversion is the form submission.
    assert_eq!(conversions[0]["touchpoint_id"], ids[2].to_string());
    // A shorter window, on request.
    let j = app
        .get_json(&format!("/v1/leads/{lead}/journey?lookback_days=31"))
        .await;
    let short: Vec<&str> = j["conversions"][2]["journey"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(short, [expected[2].as_str(), expected[3].as_str()]);
    let bad = app
        .client
        .get(app.url(&format!("/v1/leads/{lead}/journey?lookback_days=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);

    // Touches page oldest first, two at a time; the conversions and their journeys are whole
    // on every page.
    let mut pages = Vec::new();
    let mut path = format!("/v1/leads/{lead}/journey?limit=2");
    loop {
        let j = app.get_json(&path).await;
        let page: Vec<String> = j["touches"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(j["conversions"][2]["journey"].as_array().unwrap().len(), 3);
        assert_eq!(j["conversions"][1]["journey"].as_array().unwrap().len(), 3);
        pages.push(page);
        match j["touches"]["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/leads/{lead}/journey?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            expected[0..2].to_vec(),
            expected[2..4].to_vec(),
            expected[4..5].to_vec()
        ]
    );
    for bad in ["limit=0", "limit=501", "cursor=nonsense", "truncated=true"] {
        let resp = app.get(&format!("/v1/leads/{lead}/journey?{bad}")).await;
        let field = bad.split('=').next().unwrap();
        platform::testing::assert_problem(resp, 422, field).await;
    }
}
