//! `PATCH /v1/deals/{id}`: a merge patch of a deal's terms under `If-Match`, published as
//! `deal.updated` once; bad patches are named and write nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const UPDATED: &str = "touchstone.funnel.deal.updated.v1";

/// `PATCH /v1/deals/{id}` as a merge patch, with `If-Match` when given.
async fn patch(app: &TestApp, id: &str, if_match: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app
        .client
        .patch(app.url(&format!("/v1/deals/{id}")))
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(etag) = if_match {
        req = req.header("if-match", etag);
    }
    req.send().await.unwrap()
}

/// `GET /v1/deals/{id}`, with `If-None-Match` when given.
async fn get(app: &TestApp, id: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(&format!("/v1/deals/{id}")));
    if let Some(etag) = if_none_match {
        req = req.header("if-none-match", etag);
    }
    req.send().await.unwrap()
}

fn etag(resp: &reqwest::Response) -> String {
    resp.headers()["etag"].to_str().unwrap().to_string()
}

async fn updates(app: &TestApp) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM outbox WHERE routing_key = '{UPDATED}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_under_if_match_revises_the_terms_and_publishes_deal_updated_once() {
    let app = spawn_app().await;
    let mut tap = app.tap(UPDATED).await;
    let created = app.post_json("/v1/deals", &b2b_deal()).await;
    assert_eq!(etag(&created), "\"1\"");
    let deal: Value = created.json().await.unwrap();
    let id = deal["id"].as_str().unwrap().to_string();
    assert_eq!(deal["version"], 1);

    // The ETag round trip: the current one answers 304.
    let read = get(&app, &id, None).await;
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(etag(&read), "\"1\"");
    let cached = get(&app, &id, Some("\"1\"")).await;
    assert_eq!(cached.status().as_u16(), 304);
    assert_eq!(etag(&cached), "\"1\"");

    let change = json!({
        "amount": "2500.00", "currency": "USD", "owner": "bob",
        "expected_close": "2027-03-31", "methodology": "meddicc",
        "stakeholders": [{"person": "Grace", "role": "champion"},
                         {"person": "Alan", "role": "economic_buyer"}]
    });
    // Without If-Match: 428, and nothing written.
    let resp = patch(&app, &id, None, &change).await;
    assert_problem(resp, 428, "header:if-match").await;
    assert_eq!(updates(&app).await, 0);

    let resp = patch(&app, &id, Some("\"1\""), &change).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(etag(&resp), "\"2\"");
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["amount"], "2500.00");
    assert_eq!(patched["currency"], "USD");
    assert_eq!(patched["owner"], "bob");
    assert_eq!(patched["expected_close"], "2027-03-31");
    assert_eq!(patched["methodology"], "meddicc");
    assert_eq!(patched["stakeholders"][1]["role"], "economic_buyer");
    assert_eq!(patched["version"], 2);
    // Untouched: the stage and the rest.
    assert_eq!(patched["stage"], "lead");
    assert_eq!(patched["funnel_id"], B2B);

    // The old ETag is stale now: a GET answers the new deal, a PATCH is 412.
    let read = get(&app, &id, Some("\"1\"")).await;
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(etag(&read), "\"2\"");
    assert_eq!(get(&app, &id, Some("\"2\"")).await.status().as_u16(), 304);
    let resp = patch(&app, &id, Some("\"1\""), &json!({"owner": "eve"})).await;
    let problem = assert_problem(resp, 412, "").await;
    assert_eq!(problem["current_etag"], "\"2\"");

    // Published once, with the whole deal after the change.
    let event = next_event(&mut tap).await;
    assert_eq!(event["type"], UPDATED);
    assert_eq!(event["subject"], id);
    let data = &event["data"];
    assert_eq!(data["deal_id"], id);
    assert_eq!(data["version"], 2);
    assert_eq!(
        data["changed"],
        json!([
            "amount",
            "currency",
            "owner",
            "expected_close",
            "methodology",
            "stakeholders"
        ])
    );
    assert_eq!(data["amount"], "2500.00");
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["owner"], "bob");
    assert_eq!(data["expected_close"], "2027-03-31");
    assert_eq!(data["methodology"], "meddicc");
    assert_eq!(data["stakeholders"][0]["person"], "Grace");
    assert_eq!(data["stage"], "lead");
    assert_eq!(data["status"], "open");

    // A patch that changes nothing keeps the version and publishes nothing.
    let resp = patch(&app, &id, Some("\"2\""), &json!({"owner": "bob"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(etag(&resp), "\"2\"");
    // null clears a term.
    let resp = patch(&app, &id, Some("\"2\""), &json!({"expected_close": null})).await;
    assert_eq!(etag(&resp), "\"3\"");
    let cleared: Value = resp.json().await.unwrap();
    assert!(cleared["expected_close"].is_null(), "{cleared}");
    let event = next_event(&mut tap).await;
    assert_eq!(event["data"]["changed"], json!(["expected_close"]));
    assert!(event["data"].get("expected_close").is_none(), "{event}");
    assert!(
        tap.next(Duration::from_secs(2)).await.is_none(),
        "a third deal.updated"
    );
    assert_eq!(updates(&app).await, 2);

    // A move changes the deal too: a new ETag.
    app.move_ok(&id, json!({"to_stage": "mql"})).await;
    assert_eq!(etag(&get(&app, &id, None).await), "\"4\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_patches_name_their_fields_and_write_nothing() {
    let app = spawn_app().await;
    let deal = app.deal(b2b_deal()).await;
    let id = deal["id"].as_str().unwrap().to_string();
    let cases = [
        (json!({"amount": "2000.00"}), "currency"),
        (json!({"currency": "USD"}), "amount"),
        (json!({"amount": null}), "currency"),
        (json!({"amount": "2000", "currency": "euro"}), "currency"),
        (json!({"amount": "-3", "currency": "EUR"}), "amount"),
        (json!({"amount": 12.5, "currency": "EUR"}), "amount"),
        (json!({"methodology": "vibes"}), "methodology"),
        (json!({"colour": "red"}), "colour"),
        (json!({"stage": "won"}), "stage"),
        (json!({"expected_close": "soon"}), "expected_close"),
        (
            json!({"stakeholders": [{"person": "x", "role": "boss"}]}),
            "stakeholders[0].role",
        ),
        (
            json!({"stakeholders": [{"role": "champion"}]}),
            "stakeholders[0].person",
        ),
    ];
    for (body, field) in cases {
        let resp = patch(&app, &id, Some("\"1\""), &body).await;
        assert_eq!(resp.status().as_u16(), 422, "{body}");
        let problem = assert_problem(resp, 422, field).await;
        if body["amount"].is_number() {
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("\"12.5\""), "{message}");
        }
    }
    // Several unknown fields are all named, with a valid one beside them: nothing written.
    let resp = patch(
        &app,
        &id,
        Some("\"1\""),
        &json!({"owner": "bob", "colour": "red", "size": 3}),
    )
    .await;
    let problem = assert_problem(resp, 422, "colour").await;
    assert!(problem.to_string().contains("size"), "{problem}");
    let read = get(&app, &id, None).await;
    assert_eq!(etag(&read), "\"1\"");
    let unchanged: Value = read.json().await.unwrap();
    assert_eq!(unchanged["owner"], "ann");
    assert_eq!(unchanged["amount"], "1000.00");
    assert_eq!(updates(&app).await, 0);

    // A won deal's value is fixed; its other terms are not.
    app.move_ok(&id, json!({"to_stage": "won"})).await;
    let resp = patch(
        &app,
        &id,
        Some("\"2\""),
        &json!({"amount": "1.00", "currency": "EUR"}),
    )
    .await;
    assert_problem(resp, 422, "amount").await;
    let resp = patch(&app, &id, Some("\"2\""), &json!({"methodology": "spin"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(etag(&resp), "\"3\"");

    let missing = uuid::Uuid::now_v7();
    let resp = patch(
        &app,
        &missing.to_string(),
        Some("\"1\""),
        &json!({"owner": "x"}),
    )
    .await;
    assert_problem(resp, 404, "").await;
}
