//! The projections on the deal row equal a replay of its log, after random interleavings of
//! live and backdated moves; the rebuild command restores them from the log.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::*;

/// An independent fold of a log read back from the API: order by (at, seq), take the last.
fn replay(log: &Value) -> (String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>) {
    let mut moves: Vec<(DateTime<Utc>, i64, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["at"].as_str().unwrap().parse().unwrap(),
                t["seq"].as_i64().unwrap(),
                t["to_stage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    moves.sort();
    let (first, last) = (moves.first().unwrap(), moves.last().unwrap());
    let closed = ["won", "lost"].contains(&last.2.as_str()).then_some(last.0);
    (last.2.clone(), last.0, first.0, closed)
}

fn projection(deal: &Value) -> (String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>) {
    let t = |k: &str| deal[k].as_str().map(|s| s.parse().unwrap());
    (
        deal["stage"].as_str().unwrap().to_string(),
        t("stage_entered_at").unwrap(),
        t("opened_at").unwrap(),
        t("closed_at"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_equal_a_replay_after_random_backdating() {
    let app = spawn_app().await;
    let stages = ["lead", "mql", "sql", "opportunity", "won", "lost"];
    let mut rng = StdRng::seed_from_u64(7);
    let now = Utc::now();
    let mut ids = Vec::new();
    for _ in 0..12 {
        let opened = now - Duration::days(40);
        let deal = app
            .deal(json!({"funnel_id": B2B, "amount": "10", "currency": "EUR",
                         "opened_at": opened.to_rfc3339()}))
            .await;
        let id = deal["id"].as_str().unwrap().to_string();
        let mut accepted = 0;
        for _ in 0..rng.random_range(3..10) {
            let to = stages[rng.random_range(0..stages.len())];
            // Half live, half backdated to a random earlier time after the opening.
            let at = if rng.random_bool(0.5) {
                None
            } else {
                Some(opened + Duration::seconds(rng.random_range(1..39 * 86_400)))
            };
            let mut body = json!({"to_stage": to, "reason": "r"});
            if let Some(at) = at {
                body["at"] = json!(at.to_rfc3339());
            }
            let resp = app.transition(&id, body).await;
            let status = resp.status().as_u16();
            assert!(
                [201, 409].contains(&status),
                "{status}: {:?}",
                resp.text().await
            );
            accepted += (status == 201) as usize;
            // After every move, accepted or not, the row equals a replay of the log.
            let deal = app.get_json(&format!("/v1/deals/{id}")).await;
            let log = app.log(&id).await;
            assert_eq!(projection(&deal), replay(&log), "deal {id}");
            assert_eq!(
                deal["transition_count"],
                log["items"].as_array().unwrap().len()
            );
        }
        let _ = accepted;
        ids.push(id);
    }

    // Wreck the cached projections, then rebuild them from the log.
    app.count(
        "WITH x AS (UPDATE deals SET stage = 'bogus', status = 'open', closed_at = NULL \
         RETURNING 1) SELECT count(*) AS n FROM x",
    )
    .await;
    assert_eq!(rebuild(&app).await, 12);
    for id in &ids {
        let deal = app.get_json(&format!("/v1/deals/{id}")).await;
        let log = app.log(id).await;
        assert_eq!(projection(&deal), replay(&log));
    }
    // A second rebuild finds nothing to fix.
    assert_eq!(rebuild(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    app.deal(b2b_deal()).await;
    let execute = |sql: &'static str| {
        app.service.db.run(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(platform::DbError::from)
        })
    };
    assert!(
        execute("UPDATE transitions SET to_stage = 'won'")
            .await
            .is_err()
    );
    assert!(execute("DELETE FROM transitions").await.is_err());
    assert_eq!(app.count("SELECT count(*) AS n FROM transitions").await, 1);
}
