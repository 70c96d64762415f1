//! Scoring over HTTP and the bus: fit rules, decayed engagement from `touchpoint.recorded`
//! (applied once, in any order), grades, auto-promotion to MQL, `lead.scored`; MEDDICC
//! qualification; and deal events moving the lifecycle in any arrival order.

use chrono::{Duration as Days, Utc};
use contracts::RawEvent;
use contracts::funnel::{DealCreated, DealLost, DealStageChanged, DealWon};
use contracts::touchpoints::TouchpointRecorded;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app};

fn touch(lead_id: &str, touch_type: &str, days_ago: i64, touchpoint_id: Uuid) -> RawEvent {
    let at = Utc::now() - Days::days(days_ago);
    let t: TouchpointRecorded = serde_json::from_value(json!({
        "touchpoint_id": touchpoint_id, "occurred_at": at, "received_at": Utc::now(),
        "channel": "webinar", "type": touch_type, "lead_id": lead_id,
    }))
    .unwrap();
    RawEvent::new(&t, None)
}

async fn score(app: &crate::helpers::TestApp, id: &str) -> Value {
    app.get_json(&format!("/v1/leads/{id}/score")).await
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 0.01
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touches_build_decayed_engagement_once_and_promote_to_mql() {
    let app = spawn_app().await;
    app.use_test_model().await;
    let acme: Value = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "Acme", "domains": ["acme.example"], "target": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let lead = app
        .create(&json!({"email": "vp@acme.example", "title": "VP Marketing", "source": "webinar"}))
        .await;
    let id = lead["id"].as_str().unwrap().to_string();
    assert_eq!(lead["account_id"], acme["id"]);
    // Fit: "vp title" 40 + "target account" 30 = 70 → band A; engagement 0 → band 3.
    assert_eq!(lead["fit_score"], 70.0);
    assert_eq!(lead["grade"], "A3");
    let s = score(&app, &id).await;
    let fired: Vec<&str> = s["fit_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(fired, ["vp title", "target account"]);

    // A form fill exactly one half-life (30 days) ago is worth 10 × 2^-1 = 5 today: the
    // older touch arrives first, then today's meeting (25), then the meeting again.
    let old = touch(&id, "form_submit", 30, Uuid::new_v4());
    let meeting_id = Uuid::new_v4();
    app.publish(&old).await;
    app.publish(&touch(&id, "meeting", 0, meeting_id)).await;
    // The same touchpoint in a second event (a producer retry) and an unknown lead.
    app.publish(&touch(&id, "meeting", 0, meeting_id)).await;
    app.publish(&touch(
        &Uuid::new_v4().to_string(),
        "meeting",
        0,
        Uuid::new_v4(),
    ))
    .await;
    app.wait_count("SELECT count(*) AS n FROM inbox", 4).await;

    let s = score(&app, &id).await;
    assert!(close(&s["engagement_score"], 30.0), "{s}");
    // 70 fit, 30 engagement: A and band 2; the thresholds (30, 20) are met, so it is an MQL.
    assert_eq!(s["grade"], "A2");
    let lead = app.get_json(&format!("/v1/leads/{id}")).await;
    assert_eq!(lead["lifecycle_stage"], "mql");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM engagement_touches")
            .await,
        2
    );
    // lead.scored only when the grade changed: A3 at creation is not published (below the
    // MQL threshold), the 5 points from the old form fill left it at A3, and the meeting
    // made it A2 and crossed the threshold: one event.
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.scored.v1'"
        )
        .await,
        1
    );
    let history = app.get_json(&format!("/v1/leads/{id}/lifecycle")).await;
    assert_eq!(
        history["items"].as_array().unwrap().last().unwrap()["cause"],
        "score"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_touches_equals_the_brute_force_sum_and_counts_the_unmatched() {
    let app = spawn_app().await;
    app.use_test_model().await;
    let mut leads = Vec::new();
    for i in 0..4 {
        let l = app
            .create(&json!({"email": format!("b{i}@batch.example"), "source": "content"}))
            .await;
        leads.push(l["id"].as_str().unwrap().to_string());
    }
    // 40 touches: lead i % 4, alternating meeting (25) and form fill (10), i days ago; four
    // of them by email instead of id; then 6 for nobody, and 5 repeats of earlier touchpoints.
    let mut events = Vec::new();
    let mut expected = [0.0f64; 4];
    let mut firsts = Vec::new();
    for i in 0..40 {
        let (kind, points) = if i % 2 == 0 {
            ("meeting", 25.0)
        } else {
            ("form_submit", 10.0)
        };
        let tid = Uuid::new_v4();
        let mut e = touch(&leads[i % 4], kind, i as i64, tid);
        if i < 4 {
            e.data["lead_id"] = Value::Null;
            e.data["email"] = json!(format!("B{}@Batch.example", i % 4));
            firsts.push((leads[i % 4].clone(), kind, i as i64, tid));
        }
        // Worth points × 2^(-days / 30) today.
        expected[i % 4] += points * 2f64.powf(-(i as f64) / 30.0);
        events.push(e);
    }
    for _ in 0..6 {
        events.push(touch(
            &Uuid::new_v4().to_string(),
            "meeting",
            0,
            Uuid::new_v4(),
        ));
    }
    for (lead, kind, days, tid) in firsts.iter().take(5) {
        events.push(touch(lead, kind, *days, *tid));
    }
    app.publish_batch(&events).await;
    app.wait_count("SELECT count(*) AS n FROM inbox", events.len() as i64)
        .await;

    assert_eq!(
        app.count("SELECT count(*) AS n FROM engagement_touches")
            .await,
        40
    );
    for (id, want) in leads.iter().zip(expected) {
        let s = score(&app, id).await;
        assert!(close(&s["engagement_score"], want), "{id}: {s} vs {want}");
    }
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("leads_touchpoints_unmatched_total") && l.ends_with(" 6")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scoring_model_is_versioned_data_and_validated() {
    let app = spawn_app().await;
    let current = app.get_json("/v1/scoring-model").await;
    assert_eq!(current["version"], 1);
    app.use_test_model().await;
    let current = app.get_json("/v1/scoring-model").await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["versions"], json!([1, 2]));
    let mut bad = crate::helpers::test_model();
    bad["half_life_days"] = json!(0.0);
    bad["fit_bands"] = json!({"a": 10.0, "b": 20.0});
    let resp = app.put_model(&bad).await;
    let body = assert_problem(resp, 422, "half_life_days").await;
    assert!(body.to_string().contains("fit_bands"), "{body}");
    assert_eq!(app.get_json("/v1/scoring-model").await["version"], 2);
}

/// A MEDDICC card with these scores, in framework order (the seven elements before the
/// optional `paper_process`).
fn card(scores: [i64; 7]) -> Value {
    let names = &leads::domain::meddicc::ELEMENT_NAMES[..7];
    let mut m = serde_json::Map::new();
    for (n, s) in names.iter().zip(scores) {
        m.insert(
            n.to_string(),
            json!({"score": s, "evidence": format!("{n} noted")}),
        );
    }
    Value::Object(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meddicc_qualifies_at_the_gate_and_moves_the_lead_to_sql() {
    let app = spawn_app().await;
    let lead = app
        .create(&json!({"email": "buyer@corp.example", "source": "sdr"}))
        .await;
    let id = lead["id"].as_str().unwrap();
    let path = format!("/v1/leads/{id}/meddicc");
    // Total 15 ≥ 14, but metrics 1 < 2: only the metrics gate fails.
    let resp = app
        .put_if(&path, Some("\"0\""), &card([1, 2, 2, 2, 2, 3, 3]))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["evaluation"]["passed"], false);
    let failed: Vec<&str> = body["evaluation"]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["passed"] == false)
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["metrics"]);
    assert_eq!(body["lifecycle_stage"], "lead");
    // Exactly at the gates: total 14, metrics 2, economic buyer 1, pain 2.
    let resp = app
        .put_if(&path, Some("\"1\""), &card([2, 1, 2, 2, 2, 3, 2]))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["evaluation"]["total"], 14);
    assert_eq!(body["evaluation"]["passed"], true);
    assert_eq!(body["lifecycle_stage"], "sql");
    // Passing again does not qualify twice.
    app.put_if(&path, Some("\"2\""), &card([3, 1, 2, 2, 2, 3, 2]))
        .await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.qualified.v1'").await,
        1
    );
    let mut bad = card([2, 1, 2, 2, 2, 4, 2]);
    bad.as_object_mut().unwrap().remove("competition");
    let resp = app.put_if(&path, Some("\"3\""), &bad).await;
    let body = assert_problem(resp, 422, "champion.score").await;
    assert!(body.to_string().contains("competition"), "{body}");
    assert_eq!(app.get_json(&path).await["evaluation"]["total"], 15);
}

fn deal_created(deal: Uuid, lead: &str) -> RawEvent {
    let d: DealCreated = serde_json::from_value(json!({
        "deal_id": deal, "funnel_id": Uuid::new_v4(), "funnel_version": 1, "lead_id": lead,
        "stage": "opportunity", "methodology": "none", "created_at": Utc::now() - Days::days(2),
    }))
    .unwrap();
    RawEvent::new(&d, None)
}

fn deal_won(deal: Uuid, lead: &str) -> RawEvent {
    let d: DealWon = serde_json::from_value(json!({
        "deal_id": deal, "funnel_id": Uuid::new_v4(), "lead_id": lead, "amount": "1200.00",
        "currency": "EUR", "won_at": Utc::now(),
    }))
    .unwrap();
    RawEvent::new(&d, None)
}

fn deal_lost(deal: Uuid, lead: &str) -> RawEvent {
    let d: DealLost = serde_json::from_value(json!({
        "deal_id": deal, "funnel_id": Uuid::new_v4(), "lead_id": lead, "from_stage": "opportunity",
        "reason": "went with a competitor", "lost_at": Utc::now(),
    }))
    .unwrap();
    RawEvent::new(&d, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deal_events_move_the_lifecycle_in_any_order() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let l = app
            .create(&json!({"email": format!("d{i}@corp.example"), "source": "sdr"}))
            .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    // Lead 0: won arrives before created → customer, and stays customer.
    let d0 = Uuid::new_v4();
    app.publish(&deal_won(d0, &ids[0])).await;
    app.publish(&deal_created(d0, &ids[0])).await;
    // Lead 1: created then lost → opportunity, then recycled to lead with the reason.
    let d1 = Uuid::new_v4();
    app.publish(&deal_created(d1, &ids[1])).await;
    app.publish(&deal_lost(d1, &ids[1])).await;
    // Lead 2: lost arrives before created → never an open opportunity; stays lead.
    let d2 = Uuid::new_v4();
    app.publish(&deal_lost(d2, &ids[2])).await;
    app.publish(&deal_created(d2, &ids[2])).await;
    // A deal for a lead this service never saw is kept, not an error.
    app.publish(&deal_created(Uuid::new_v4(), &Uuid::new_v4().to_string()))
        .await;
    app.wait_count("SELECT count(*) AS n FROM inbox", 7).await;

    let stage = |v: Value| v["lifecycle_stage"].as_str().unwrap().to_string();
    assert_eq!(
        stage(app.get_json(&format!("/v1/leads/{}", ids[0])).await),
        "customer"
    );
    assert_eq!(
        stage(app.get_json(&format!("/v1/leads/{}", ids[1])).await),
        "lead"
    );
    assert_eq!(
        stage(app.get_json(&format!("/v1/leads/{}", ids[2])).await),
        "lead"
    );
    let h1 = app
        .get_json(&format!("/v1/leads/{}/lifecycle", ids[1]))
        .await;
    let last = h1["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cause"], "deal_lost");
    assert_eq!(last["reason"], "deal lost: went with a competitor");
    assert_eq!(app.count("SELECT count(*) AS n FROM deals").await, 4);
    assert!(
        platform::bus::dlq::peek(&app.service.settings.bus, "leads", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn staged(deal: Uuid, lead: &str, to: &str, days_ago: i64) -> RawEvent {
    let d: DealStageChanged = serde_json::from_value(json!({
        "deal_id": deal, "funnel_id": Uuid::new_v4(), "lead_id": lead, "from_stage": "lead",
        "to_stage": to, "sequence": 2, "changed_at": Utc::now() - Days::days(days_ago),
    }))
    .unwrap();
    RawEvent::new(&d, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_before_opportunity_leaves_the_lead_alone_until_it_moves_on() {
    let app = spawn_app().await;
    let l = app
        .create(&json!({"email": "early@corp.example", "source": "sdr"}))
        .await;
    let id = l["id"].as_str().unwrap().to_string();
    let deal = Uuid::new_v4();
    // The B2B funnel opens a deal per new lead in its `lead` stage.
    let mut opened = deal_created(deal, &id);
    opened.data["stage"] = json!("lead");
    app.publish(&opened).await;
    app.wait_count("SELECT count(*) AS n FROM inbox", 1).await;
    let stage = |v: Value| v["lifecycle_stage"].as_str().unwrap().to_string();
    assert_eq!(
        stage(app.get_json(&format!("/v1/leads/{id}")).await),
        "lead"
    );
    // Moves arrive out of order: the later one (opportunity) decides.
    app.publish(&staged(deal, &id, "opportunity", 1)).await;
    app.publish(&staged(deal, &id, "mql", 2)).await;
    app.wait_count("SELECT count(*) AS n FROM inbox", 3).await;
    assert_eq!(
        stage(app.get_json(&format!("/v1/leads/{id}")).await),
        "opportunity"
    );
}
