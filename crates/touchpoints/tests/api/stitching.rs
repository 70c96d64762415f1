//! Identity stitching: the same result whichever order a lead and its touches arrive in;
//! merges re-point touches; consumed events are applied once.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::events::{deal_lost, deal_won, lead_created, lead_merged};
use crate::helpers::{TestApp, spawn_app, touch};

async fn touches_of(app: &TestApp, lead: Uuid) -> i64 {
    app.service
        .count(&format!(
            "SELECT count(*) AS n FROM touchpoints WHERE lead_id = '{lead}'"
        ))
        .await
}

fn anonymous_and_email_touches() -> Vec<Value> {
    vec![
        touch(
            "2026-03-01T09:00:00Z",
            "display",
            "impression",
            json!({"anonymous_id": "dev-1"}),
        ),
        touch(
            "2026-03-01T09:05:00Z",
            "paid_search",
            "click",
            json!({"anonymous_id": "dev-1"}),
        ),
        touch(
            "2026-03-01T09:10:00Z",
            "email",
            "email_click",
            json!({"email": "Ada@Example.com"}),
        ),
        touch(
            "2026-03-01T09:15:00Z",
            "direct",
            "visit",
            json!({"anonymous_id": "someone-else"}),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touches_before_the_lead_are_stitched_when_it_arrives() {
    let app = spawn_app().await;
    app.ingest(&anonymous_and_email_touches()).await;
    assert_eq!(
        app.service
            .count("SELECT count(*) AS n FROM touchpoints WHERE lead_id IS NULL")
            .await,
        4
    );
    let lead = Uuid::now_v7();
    app.publish(&lead_created(lead, "ada@example.com", Some("dev-1")))
        .await;
    app.wait_inbox(1).await;
    assert_eq!(touches_of(&app, lead).await, 3);
    assert_eq!(
        app.service
            .count("SELECT count(*) AS n FROM touchpoints WHERE lead_id IS NULL")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touches_after_the_lead_are_stitched_at_ingest() {
    let app = spawn_app().await;
    let lead = Uuid::now_v7();
    app.publish(&lead_created(lead, "ada@example.com", Some("dev-1")))
        .await;
    app.wait_inbox(1).await;
    let mut tap = app.tap("touchstone.touchpoints.#").await;
    app.ingest(&anonymous_and_email_touches()).await;
    assert_eq!(touches_of(&app, lead).await, 3);
    // The published events carry the lead, so leads can score them.
    let d = tap.next(std::time::Duration::from_secs(10)).await.unwrap();
    let events = contracts::parse_message(
        d.properties.content_type().as_ref().map(|c| c.as_str()),
        &d.data,
    )
    .unwrap();
    let first: contracts::touchpoints::TouchpointRecorded = events[0].decode().unwrap();
    assert_eq!(first.lead_id, Some(lead));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_moves_touches_and_later_touches_follow_it() {
    let app = spawn_app().await;
    let (survivor, merged) = (Uuid::now_v7(), Uuid::now_v7());
    app.ingest(&[
        touch(
            "2026-03-01T09:00:00Z",
            "direct",
            "visit",
            json!({"lead_id": survivor}),
        ),
        touch(
            "2026-03-01T09:00:00Z",
            "direct",
            "visit",
            json!({"lead_id": merged}),
        ),
        touch(
            "2026-03-01T09:00:00Z",
            "direct",
            "visit",
            json!({"anonymous_id": "dev-m"}),
        ),
    ])
    .await;
    app.publish(&deal_won(
        Uuid::now_v7(),
        merged,
        "100",
        "2026-03-02T00:00:00Z",
    ))
    .await;
    app.publish(&lead_merged(
        survivor,
        merged,
        "m@example.com",
        Some("dev-m"),
    ))
    .await;
    app.wait_inbox(2).await;
    assert_eq!(touches_of(&app, survivor).await, 3);
    assert_eq!(touches_of(&app, merged).await, 0);
    assert_eq!(
        app.service
            .count(&format!(
                "SELECT count(*) AS n FROM conversions WHERE lead_id = '{survivor}'"
            ))
            .await,
        1
    );
    // A touch still naming the merged lead, or its email, goes to the survivor.
    app.ingest(&[
        touch(
            "2026-03-03T09:00:00Z",
            "direct",
            "visit",
            json!({"lead_id": merged}),
        ),
        touch(
            "2026-03-03T09:00:00Z",
            "sales_call",
            "call",
            json!({"email": "m@example.com"}),
        ),
    ])
    .await;
    assert_eq!(touches_of(&app, survivor).await, 5);
    // The merged lead's journey is the survivor's.
    let j = app.get_json(&format!("/v1/leads/{merged}/journey")).await;
    assert_eq!(j["lead_id"], survivor.to_string());
    assert_eq!(j["merged_from"], merged.to_string());
    assert_eq!(j["touches"]["items"].as_array().unwrap().len(), 5);
    assert_eq!(j["touches"]["next_cursor"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_lead_that_was_already_merged_stitches_to_the_survivor() {
    let app = spawn_app().await;
    let (survivor, merged) = (Uuid::now_v7(), Uuid::now_v7());
    app.ingest(&[touch(
        "2026-03-01T09:00:00Z",
        "direct",
        "visit",
        json!({"anonymous_id": "late"}),
    )])
    .await;
    app.publish(&lead_merged(survivor, merged, "late@example.com", None))
        .await;
    app.wait_inbox(1).await;
    app.publish(&lead_created(merged, "late@example.com", Some("late")))
        .await;
    app.wait_inbox(2).await;
    assert_eq!(touches_of(&app, survivor).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumed_events_are_applied_once() {
    let app = spawn_app().await;
    let lead = Uuid::now_v7();
    let deal = Uuid::now_v7();
    let created = contracts::RawEvent::new(&lead_created(lead, "once@example.com", None), None);
    let won = contracts::RawEvent::new(
        &deal_won(deal, lead, "250.00", "2026-03-05T00:00:00Z"),
        None,
    );
    for e in [&created, &won, &created, &won] {
        app.service.publish(e).await;
    }
    // A second, distinct event about the same deal changes nothing either.
    app.publish(&deal_won(deal, lead, "250.00", "2026-03-05T00:00:00Z"))
        .await;
    // The duplicates leave no trace to wait for, so a marker follows them: another lead's
    // lost deal. The queue is delivered in order and applied one group at a time, a failed
    // group one message at a time, so once the marker's conversion shows, every message
    // above has been applied or skipped, unless one went to a retry queue, from which it
    // could come back after the marker; so none may have.
    let marker_deal = Uuid::now_v7();
    let marker = app
        .publish(&deal_lost(
            marker_deal,
            Uuid::now_v7(),
            "2026-03-06T00:00:00Z",
        ))
        .await;
    app.service
        .wait_count(
            &format!("SELECT count(*) AS n FROM conversions WHERE deal_id = '{marker_deal}'"),
            1,
        )
        .await;
    assert_eq!(
        retried(&app).await,
        0,
        "a message was retried and may land after the marker"
    );
    assert_eq!(
        app.service
            .count(&format!(
                "SELECT count(*) AS n FROM inbox WHERE event_id <> '{}'",
                marker.id
            ))
            .await,
        3
    );
    assert_eq!(
        app.service
            .count(&format!(
                "SELECT count(*) AS n FROM conversions \
                 WHERE deal_id IS DISTINCT FROM '{marker_deal}'"
            ))
            .await,
        1
    );
    assert_eq!(
        app.service
            .count("SELECT count(*) AS n FROM identities")
            .await,
        1
    );
}

/// Messages the consumer has sent to a retry queue, from `/metrics`.
async fn retried(app: &TestApp) -> i64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("events_retried_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .sum()
}
