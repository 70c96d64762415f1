//! NDJSON history import: bad lines are reported by number and never stop good ones.

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_numbered_and_good_lines_land() {
    let app = spawn_app().await;
    let outbox_before = app.count("SELECT count(*) AS n FROM outbox").await;
    let mut body = Vec::new();
    let mut line = |v: &str| {
        body.extend_from_slice(v.as_bytes());
        body.push(b'\n');
    };
    line(
        r#"{"external_id":"A","stage":"lead","at":"2026-01-05T10:00:00Z","attributes":{"source":"web"}}"#,
    ); // 1 ok, opens A
    line(r#"{"external_id":"A","stage":"mql","at":"2026-01-09T10:00:00Z"}"#); // 2 ok
    line(r#"{"external_id":"A","stage":"closing","at":"2026-01-10T10:00:00Z"}"#); // 3 unknown stage
    line(r#"{"external_id":"A","stage":"sql","at":"not a time"}"#); // 4 bad time
    line("not json at all"); // 5
    line(""); // 6 blank: ignored
    line(r#"{"stage":"lead","at":"2026-01-05T10:00:00Z"}"#); // 7 no deal reference
    // 8: a line that is not UTF-8
    body.extend_from_slice(b"{\"external_id\":\"\xff\xfe\",\"stage\":\"lead\"}\n");
    let long = format!(
        r#"{{"external_id":"{}","stage":"lead","at":"2026-01-05T10:00:00Z"}}"#,
        "x".repeat(70_000)
    );
    body.extend_from_slice(long.as_bytes()); // 9: over the line limit
    body.push(b'\n');
    let mut line = |v: &str| {
        body.extend_from_slice(v.as_bytes());
        body.push(b'\n');
    };
    line(r#"{"external_id":"A","stage":"won","at":"2026-01-20T10:00:00Z"}"#); // 10 ok
    line(r#"{"external_id":"A","stage":"sql","at":"2026-01-21T10:00:00Z"}"#); // 11 from terminal
    line(r#"{"external_id":"B","stage":"lead","at":"2026-02-01T10:00:00Z"}"#); // 12 ok, opens B
    line(r#"{"external_id":"B","stage":"lost","at":"2026-02-03T10:00:00Z","reason":"price"}"#); // 13 ok
    // 14 without a trailing newline: a backdated mql for B, before its loss.
    body.extend_from_slice(br#"{"external_id":"B","stage":"mql","at":"2026-02-02T10:00:00Z"}"#);

    let r = app.import(B2B, body).await;
    assert_eq!(r["accepted"], 6, "{r}");
    assert_eq!(r["rejected"], 7, "{r}");
    assert_eq!(r["deals_created"], 2);
    let lines: Vec<i64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 7, 8, 9, 11]);
    let msg = |n: i64| {
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["line"] == n)
            .unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(msg(3).contains("to_stage"), "{}", msg(3));
    assert!(msg(8).contains("UTF-8"));
    assert!(msg(9).contains("longer"));
    assert!(msg(11).contains("terminal"));

    let a = app.get_json(&format!("/v1/deals?funnel_id={B2B}")).await;
    let find = |x: &str| {
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["external_id"] == x)
            .unwrap()
            .clone()
    };
    let (deal_a, deal_b) = (find("A"), find("B"));
    assert_eq!(deal_a["status"], "won");
    assert_eq!(deal_a["opened_at"], "2026-01-05T10:00:00Z");
    assert_eq!(deal_a["attributes"], json!({"source": "web"}));
    assert_eq!(deal_b["status"], "lost");
    assert_eq!(deal_b["close_reason"], "price");
    let b_log = app.log(deal_b["id"].as_str().unwrap()).await;
    assert_eq!(b_log["items"].as_array().unwrap().len(), 3);
    // History is for analysis: the import published nothing.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox").await,
        outbox_before
    );

    let missing = app
        .client
        .post(app.url(&format!("/v1/funnels/{}/events", uuid::Uuid::now_v7())))
        .body("{}\n")
        .send()
        .await
        .unwrap();
    assert_problem(missing, 404, "").await;
}
