//! `POST /v1/touchpoints`: validation, idempotent re-ingest, and the events it publishes.

use std::collections::HashSet;
use std::time::Duration;

use contracts::touchpoints::TouchpointRecorded;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{fields, spawn_app, touch};
use platform::testing::assert_problem;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_touch_is_stored_normalised_and_readable() {
    let app = spawn_app().await;
    let id = Uuid::now_v7();
    let resp = app
        .post_json(
            "/v1/touchpoints",
            &touch(
                "2026-03-01T10:00:00Z",
                "paid_search",
                "click",
                json!({"id": id, "email": " Ada@Example.com ", "campaign_id": "c1", "cost": "1.25", "currency": "EUR", "properties": {"kw": "crm"}}),
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["cost"], "1.25");
    assert_eq!(body["type"], "click");
    let read = app.get_json(&format!("/v1/touchpoints/{id}")).await;
    assert_eq!(read, body);
    let missing = app
        .client
        .get(app.url(&format!("/v1/touchpoints/{}", Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_with_invalid_touches_stores_nothing_and_names_each_field() {
    let app = spawn_app().await;
    let at = "2026-03-01T10:00:00Z";
    let negative_cost = json!({"cost": "-1", "currency": "EUR"});
    let touches = vec![
        touch(at, "direct", "visit", json!({})),
        touch(at, "display", "impression", negative_cost),
        touch(at, "affiliate", "click", json!({})),
    ];
    let mut unknown_field = touches.clone();
    unknown_field.push(touch(at, "direct", "visit", json!({"colour": "red"})));
    let resp = app
        .post_json("/v1/touchpoints", &json!(unknown_field))
        .await;
    let body = assert_problem(resp, 422, "").await;
    // Shape errors stop at the first; this one is the unknown field of the last item.
    assert_eq!(fields(&body), ["[3].colour"], "{body}");

    let resp = app.post_json("/v1/touchpoints", &json!(touches)).await;
    let body = assert_problem(resp, 422, "").await;
    assert_eq!(fields(&body), ["[1].cost", "[2].affiliate_id"], "{body}");

    // Money is a decimal string: a JSON number is refused with the string to send.
    let numeric_cost = touch(
        at,
        "display",
        "impression",
        json!({"cost": 0.0125, "currency": "EUR"}),
    );
    let resp = app.post_json("/v1/touchpoints", &numeric_cost).await;
    let body = assert_problem(resp, 422, "cost").await;
    assert_eq!(
        body["errors"][0]["message"], "must be a decimal string, not a number: send \"0.0125\"",
        "{body}"
    );
    app.assert_stored(0, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_ingesting_the_same_ids_has_no_second_effect() {
    let app = spawn_app().await;
    let touches: Vec<Value> = (0..3)
        .map(|i| {
            touch(
                "2026-03-01T10:00:00Z",
                "webinar",
                "form_submit",
                json!({"id": Uuid::now_v7(), "anonymous_id": format!("anon-{i}")}),
            )
        })
        .collect();
    let first = app.ingest(&touches).await;
    assert_eq!(first["inserted"], 3);
    let resp = app.post_json("/v1/touchpoints", &json!(touches)).await;
    assert_eq!(resp.status().as_u16(), 200, "nothing new");
    let second: Value = resp.json().await.unwrap();
    assert_eq!(
        (second["inserted"].clone(), second["duplicates"].clone()),
        (json!(0), json!(3))
    );
    assert_eq!(second["ids"], first["ids"]);
    app.assert_stored(3, 3).await;
    // form_submit is a micro-conversion by default: recorded once per touch.
    assert_eq!(
        app.service
            .count("SELECT count(*) AS n FROM conversions WHERE kind = 'micro'")
            .await,
        3
    );
    // A single object re-sent is a 200 with the stored touch.
    let again = app.post_json("/v1/touchpoints", &touches[0]).await;
    assert_eq!(again.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_touches_are_published_as_batched_touchpoint_recorded_events() {
    let app = spawn_app().await;
    let mut tap = app.tap("touchstone.touchpoints.#").await;
    let touches: Vec<Value> = (0..3)
        .map(|i| {
            touch(
                "2026-03-01T10:00:00Z",
                "display",
                "impression",
                json!({"id": Uuid::now_v7(), "campaign_id": "c1", "cost": format!("0.00{i}"), "currency": "EUR"}),
            )
        })
        .collect();
    app.ingest(&touches).await;
    let mut seen = HashSet::new();
    let mut messages = 0;
    while seen.len() < 3 {
        let d = tap
            .next(Duration::from_secs(10))
            .await
            .expect("events arrive");
        assert_eq!(
            d.routing_key.as_str(),
            "touchstone.touchpoints.touchpoint.recorded.v1"
        );
        let ct = d.properties.content_type().as_ref().map(|c| c.as_str());
        assert_eq!(ct, Some(contracts::CLOUDEVENTS_BATCH_JSON));
        let events = contracts::parse_message(ct, &d.data).expect("a valid batch");
        assert!(events.len() <= 2, "events_per_message is 2 in tests");
        for e in events {
            let t: TouchpointRecorded = e.decode().unwrap();
            assert_eq!(t.campaign_id.as_deref(), Some("c1"));
            assert!(seen.insert(t.touchpoint_id), "published twice");
        }
        messages += 1;
    }
    assert_eq!(messages, 2);
    let sent: HashSet<Uuid> = touches
        .iter()
        .map(|t| t["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seen, sent);
    assert!(tap.next(Duration::from_millis(500)).await.is_none());
}
