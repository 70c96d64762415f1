//! The model that attributes won deals: a deal the engine refuses goes to the dead-letter
//! queue on its first attempt, and the model's refresh task outlives a database error.

use std::time::Duration;

use diesel::RunQueryDsl;
use platform::bus::{Tap, dlq};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::events::deal_won;
use crate::helpers::{TestApp, lead_touch, spawn_app, spawn_with, test_config};

const ATTRIBUTED: &str = "touchstone.touchpoints.conversion.attributed.v1";

/// Runs a statement against the service's database.
async fn execute(app: &TestApp, sql: String) {
    app.db
        .run(move |conn| {
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(platform::DbError::from)
        })
        .await
        .expect("statement runs");
}

/// Waits up to 15 s until the service's dead-letter queue holds `n` messages (left there).
async fn wait_dead_letters(app: &TestApp, n: usize) -> Vec<dlq::DeadLetter> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let seen = dlq::peek(&app.settings.bus, touchpoints::SERVICE, 100)
            .await
            .unwrap();
        if seen.len() >= n {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} dead letters: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next `conversion.attributed` event's data.
async fn next_attributed(tap: &mut Tap) -> Value {
    let d = tap
        .next(Duration::from_secs(15))
        .await
        .expect("conversion.attributed");
    let event: Value = serde_json::from_slice(&d.data).unwrap();
    assert_eq!(event["type"], ATTRIBUTED);
    event["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_won_deal_the_engine_refuses_is_dead_lettered_at_once() {
    let app = spawn_app().await;
    let mut tap = app.tap(ATTRIBUTED).await;
    let (odd, fine) = (Uuid::now_v7(), Uuid::now_v7());
    // The ingest takes known channels only, so no request can store a channel the engine
    // refuses; a row written around it can (e.g. migrated from another system): here a touch
    // on the name the Markov chain reserves for its null state.
    let touch = Uuid::now_v7();
    execute(
        &app,
        format!(
            "INSERT INTO touchpoints (id, occurred_at, received_at, channel, touch_type, lead_id) \
             VALUES ('{touch}', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z', '(null)', \
             'click', '{odd}')"
        ),
    )
    .await;
    app.ingest(&[lead_touch(
        fine,
        "2026-05-01T00:00:00Z",
        "email",
        "click",
        None,
    )])
    .await;
    let (refused, won) = (Uuid::now_v7(), Uuid::now_v7());
    app.publish(&deal_won(refused, odd, "100", "2026-05-10T00:00:00Z"))
        .await;
    app.publish(&deal_won(won, fine, "40", "2026-05-10T00:00:00Z"))
        .await;

    // Straight to the DLQ, with the engine's reason: no retry, since the same journey would
    // fail the same way.
    let letters = wait_dead_letters(&app, 1).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter.retries, Some(0), "{letter:?}");
    let reason = letter.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains(&format!("attributing deal {refused}")),
        "{reason}"
    );
    assert!(reason.contains("(null)"), "{reason}");
    assert_eq!(app.metric("events_retried_total").await, 0);
    // Nothing of it was kept, and the deal behind it was attributed.
    let recorded = format!("SELECT count(*) AS n FROM conversions WHERE deal_id = '{refused}'");
    assert_eq!(app.count(&recorded).await, 0);
    let e = next_attributed(&mut tap).await;
    assert_eq!(e["deal_id"], won.to_string());

    // Once the data is corrected, the dead letter replays into an attribution.
    execute(
        &app,
        format!("UPDATE touchpoints SET channel = 'display' WHERE id = '{touch}'"),
    )
    .await;
    let replayed = dlq::replay(&app.settings.bus, touchpoints::SERVICE, 10)
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    let e = next_attributed(&mut tap).await;
    assert_eq!(e["deal_id"], refused.to_string());
    assert_eq!(e["credits"][0]["channel"], "display");
    assert_eq!(app.metric("events_retried_total").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_refresh_outlives_a_database_error() {
    let mut config = test_config();
    config.model_refresh.every = Duration::from_secs(1);
    let mut app = spawn_with(config).await;
    const TRAININGS: &str = "touchpoints_attribution_model_trainings_total";
    const FAILURES: &str = "touchpoints_attribution_model_refresh_failures_total";
    app.wait_metric(TRAININGS, |n| n >= 1).await;

    // The training window's table gone: each refresh fails, and the task goes on.
    execute(
        &app,
        "ALTER TABLE conversions RENAME TO conversions_away".into(),
    )
    .await;
    app.wait_metric(FAILURES, |n| n >= 2).await;
    execute(
        &app,
        "ALTER TABLE conversions_away RENAME TO conversions".into(),
    )
    .await;
    let trainings = app.metric(TRAININGS).await;
    app.wait_metric(TRAININGS, |n| n > trainings).await;

    assert!(
        app.service
            .exited(Duration::from_millis(100))
            .await
            .is_none()
    );
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
}
