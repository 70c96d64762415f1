//! Deals and their moves: skips, backward moves, terminal stages, events, bad input.

use chrono::{Duration as Span, Utc};
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_skip_go_back_and_close_with_events() {
    let app = spawn_app().await;
    let mut tap = app.tap("touchstone.funnel.#").await;
    let lead = uuid::Uuid::now_v7();
    let deal = app
        .deal(json!({
            "funnel_id": B2B, "lead_id": lead, "campaign_id": "spring",
            "amount": "12500.50", "currency": "EUR", "methodology": "meddicc",
            "stakeholders": [{"person": "Grace", "role": "champion"},
                             {"person": "Alan", "role": "economic_buyer"}],
            "opened_at": (Utc::now() - Span::days(20)).to_rfc3339()
        }))
        .await;
    let id = deal["id"].as_str().unwrap().to_string();
    assert_eq!(deal["stage"], "lead");
    assert_eq!(deal["stakeholders"][1]["role"], "economic_buyer");
    let created = next_event(&mut tap).await;
    assert_eq!(created["type"], "touchstone.funnel.deal.created.v1");
    assert_eq!(created["data"]["stage"], "lead");
    assert_eq!(created["data"]["amount"], "12500.50");

    // Skip mql and sql, then go back to sql: both allowed, both logged.
    let skip = app
        .move_ok(
            &id,
            json!({"to_stage": "opportunity", "at": (Utc::now() - Span::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(skip["transition"]["from_stage"], "lead");
    let back = app
        .move_ok(
            &id,
            json!({"to_stage": "sql", "reason": "needs another demo"}),
        )
        .await;
    assert_eq!(back["deal"]["stage"], "sql");
    assert_eq!(back["transition"]["from_stage"], "opportunity");
    for to in ["opportunity", "sql"] {
        let e = next_event(&mut tap).await;
        assert_eq!(e["type"], "touchstone.funnel.deal.stage_changed.v1");
        assert_eq!(e["data"]["to_stage"], to);
    }

    let won = app
        .move_ok(
            &id,
            json!({"to_stage": "won", "reason": "signed", "amount": "13000", "currency": "EUR",
                             "products": [{"product_id": "pro", "units": 3, "amount": "13000"}]}),
        )
        .await;
    assert_eq!(won["deal"]["status"], "won");
    assert_eq!(won["deal"]["close_reason"], "signed");
    assert_eq!(won["deal"]["time_in_stage_secs"], 0);
    let cycle = won["deal"]["cycle_time_secs"].as_i64().unwrap();
    assert!(
        (20 * 86_400 - 5..=20 * 86_400 + 5).contains(&cycle),
        "{cycle}"
    );
    let changed = next_event(&mut tap).await;
    assert_eq!(changed["data"]["to_stage"], "won");
    let won_event = next_event(&mut tap).await;
    assert_eq!(won_event["type"], "touchstone.funnel.deal.won.v1");
    let data = &won_event["data"];
    assert_eq!(data["amount"], "13000");
    assert_eq!(data["currency"], "EUR");
    assert_eq!(data["lead_id"], lead.to_string());
    assert_eq!(data["campaign_id"], "spring");
    assert_eq!(data["products"][0]["units"], 3);

    // Won is terminal: nothing more is written.
    let log_before = app.count("SELECT count(*) AS n FROM transitions").await;
    let outbox_before = app.count("SELECT count(*) AS n FROM outbox").await;
    let resp = app.transition(&id, json!({"to_stage": "sql"})).await;
    let body = assert_problem(resp, 409, "").await;
    assert!(
        body["detail"].as_str().unwrap().contains("terminal"),
        "{body}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM transitions").await,
        log_before
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox").await,
        outbox_before
    );

    let log = app.log(&id).await;
    assert_eq!(
        strings(&log["items"], "to_stage"),
        ["lead", "opportunity", "sql", "won"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_needs_a_reason_and_publishes_deal_lost() {
    let app = spawn_app().await;
    let mut tap = app.tap("touchstone.funnel.deal.lost.v1").await;
    let deal = app.deal(b2b_deal()).await;
    let id = deal["id"].as_str().unwrap();
    let resp = app.transition(id, json!({"to_stage": "lost"})).await;
    assert_problem(resp, 422, "reason").await;
    let lost = app
        .move_ok(id, json!({"to_stage": "lost", "reason": "budget"}))
        .await;
    assert_eq!(lost["deal"]["status"], "lost");
    let e = next_event(&mut tap).await;
    assert_eq!(e["data"]["reason"], "budget");
    assert_eq!(e["data"]["from_stage"], "lead");
    assert_eq!(e["data"]["amount"], "1000.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_moves_get_problems_and_write_nothing() {
    let app = spawn_app().await;
    let deal = app
        .deal(json!({"funnel_id": B2B, "opened_at": (Utc::now() - Span::days(5)).to_rfc3339()}))
        .await;
    let id = deal["id"].as_str().unwrap();
    let log = || app.count("SELECT count(*) AS n FROM transitions");
    let before = log().await;
    let cases = [
        (json!({"to_stage": "negotiation"}), 422, "to_stage"),
        (json!({}), 422, "to_stage"),
        (json!({"to_stage": "mql", "at": "yesterday"}), 422, "at"),
        (
            json!({"to_stage": "mql", "at": (Utc::now() + Span::days(1)).to_rfc3339()}),
            422,
            "at",
        ),
        (
            json!({"to_stage": "mql", "at": (Utc::now() - Span::days(9)).to_rfc3339()}),
            422,
            "at",
        ),
        (json!({"to_stage": "lead"}), 409, ""),
        // Winning needs a value.
        (json!({"to_stage": "won"}), 422, "amount"),
        (
            json!({"to_stage": "won", "amount": "-3", "currency": "EUR"}),
            422,
            "amount",
        ),
        (
            json!({"to_stage": "won", "amount": "3", "currency": "euro"}),
            422,
            "currency",
        ),
    ];
    for (body, status, field) in cases {
        let resp = app.transition(id, body.clone()).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        assert_problem(resp, status, field).await;
    }
    assert_eq!(log().await, before);

    // A terminal move must be the last in time.
    app.move_ok(id, json!({"to_stage": "mql"})).await;
    let resp = app
        .transition(
            id,
            json!({"to_stage": "lost", "reason": "x", "at": (Utc::now() - Span::days(1)).to_rfc3339()}),
        )
        .await;
    assert_problem(resp, 409, "").await;

    let missing = app
        .transition(
            &uuid::Uuid::now_v7().to_string(),
            json!({"to_stage": "mql"}),
        )
        .await;
    assert_problem(missing, 404, "").await;
    let bad_id = app.transition("nope", json!({"to_stage": "mql"})).await;
    assert_problem(bad_id, 422, "id").await;

    // Bad deals.
    let deals_before = app.count("SELECT count(*) AS n FROM deals").await;
    for (body, field) in [
        (json!({"funnel_id": B2B, "stage": "won"}), "stage"),
        (json!({"funnel_id": B2B, "stage": "closing"}), "stage"),
        (json!({"funnel_id": uuid::Uuid::now_v7()}), "funnel_id"),
        (
            json!({"funnel_id": B2B, "methodology": "vibes"}),
            "methodology",
        ),
        (
            json!({"funnel_id": B2B, "stakeholders": [{"person": "x", "role": "boss"}]}),
            "stakeholders[0].role",
        ),
    ] {
        let resp = app.post_json("/v1/deals", &body).await;
        assert_problem(resp, 422, field).await;
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM deals").await,
        deals_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_and_page() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.deal(b2b_deal()).await;
    }
    let m = app.deal(json!({"funnel_id": MARKETING})).await;
    app.move_ok(m["id"].as_str().unwrap(), json!({"to_stage": "interest"}))
        .await;
    let page = app
        .get_json(&format!("/v1/deals?funnel_id={B2B}&limit=2"))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(&format!(
            "/v1/deals?funnel_id={B2B}&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let interest = app.get_json("/v1/deals?stage=interest").await;
    assert_eq!(interest["items"].as_array().unwrap().len(), 1);
    let resp = app.get("/v1/deals?status=maybe&colour=red").await;
    let body = assert_problem(resp, 422, "status").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"colour"), "{body}");
}
