//! `POST /v1/touchpoints/bulk`: streamed NDJSON where bad lines never stop the good ones.

use serde_json::{Value, json};
use uuid::Uuid;

use touchpoints::{IngestSettings, TouchpointsConfig};

use crate::helpers::{spawn_app, spawn_with, test_config, touch};

fn line(v: &Value) -> Vec<u8> {
    let mut l = serde_json::to_vec(v).unwrap();
    l.push(b'\n');
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_counted_and_listed_and_good_lines_are_stored() {
    let app = spawn_app().await;
    let dup = Uuid::now_v7();
    let mut body = Vec::new();
    body.extend(line(&touch(
        "2026-03-01T10:00:00Z",
        "direct",
        "visit",
        json!({"id": dup}),
    )));
    body.extend(b"{not json\n");
    body.extend(b"{\"occurred_at\":\"2026-03-01T10:00:00Z\",\"channel\":\"direct\",\"type\":\"visit\",\"anonymous_id\":\"\xff\xfe\"}\n");
    body.extend(format!("{{\"anonymous_id\":\"{}\"}}\n", "x".repeat(2000)).as_bytes());
    body.extend(line(&touch(
        "2026-03-01T10:00:00Z",
        "email",
        "email_open",
        json!({"email": "b@example.com"}),
    )));
    body.extend(b"   \n");
    body.extend(line(&touch(
        "2026-03-01T10:00:00Z",
        "affiliate",
        "click",
        json!({}),
    )));
    body.extend(line(&touch(
        "2026-03-01T10:00:00Z",
        "direct",
        "visit",
        json!({"id": dup}),
    )));
    // The last line has no newline.
    let last = serde_json::to_vec(&touch(
        "2026-03-01T11:00:00Z",
        "content",
        "download",
        json!({}),
    ))
    .unwrap();
    body.extend(last);

    let report = app.bulk(body).await;
    assert_eq!(report["lines"], 8, "{report}");
    assert_eq!(report["accepted"], 4);
    assert_eq!(report["inserted"], 3);
    assert_eq!(report["duplicates"], 1);
    assert_eq!(report["rejected"], 4);
    // The cap is 3 in tests: all four are counted, three listed.
    let listed: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [2, 3, 4]);
    assert_eq!(report["errors_truncated"], true);
    for (i, says) in [(1, "UTF-8"), (2, "longer than 1024")] {
        let message = report["errors"][i]["message"].as_str().unwrap();
        assert!(message.contains(says), "{report}");
    }
    app.assert_stored(3, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_chunks_are_stored_once_and_a_resend_has_no_effect() {
    let app = spawn_app().await;
    let mut body = Vec::new();
    for i in 0..11 {
        body.extend(line(&touch(
            "2026-03-01T10:00:00Z",
            "display",
            "impression",
            json!({"id": Uuid::now_v7(), "anonymous_id": format!("a{i}"), "cost": "0.01", "currency": "EUR"}),
        )));
    }
    let first = app.bulk(body.clone()).await;
    assert_eq!(
        (first["accepted"].clone(), first["inserted"].clone()),
        (json!(11), json!(11))
    );
    let again = app.bulk(body).await;
    assert_eq!(
        (again["inserted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(11))
    );
    app.assert_stored(11, 11).await;
}

/// Long lines close a chunk before its line count does: each chunk is one transaction with
/// its own outbox message, so the messages count the chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_close_at_the_byte_limit_before_the_line_limit() {
    let lines: Vec<Vec<u8>> = (0..10)
        .map(|i| {
            line(&touch(
                "2026-03-01T10:00:00Z",
                "content",
                "page_view",
                json!({"id": Uuid::now_v7(), "properties": {"page": format!("{i:0>300}")}}),
            ))
        })
        .collect();
    let width = lines[0].len() - 1;
    assert!(lines.iter().all(|l| l.len() - 1 == width));
    // Three lines reach 2 × width + 1 bytes: chunks of 3, 3, 3 and 1.
    let config = test_config();
    let app = spawn_with(TouchpointsConfig {
        ingest: IngestSettings {
            chunk_lines: 1_000,
            chunk_bytes: 2 * width + 1,
            events_per_message: 100,
            ..config.ingest
        },
        ..config
    })
    .await;
    let report = app.bulk(lines.concat()).await;
    assert_eq!(report["inserted"], 10, "{report}");
    assert_eq!(
        app.service.count("SELECT count(*) AS n FROM outbox").await,
        4
    );
    assert_eq!(
        app.service
            .count("SELECT count(*) AS n FROM outbox WHERE event_count = 3")
            .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_wants_ndjson() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/v1/touchpoints/bulk"))
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
}
