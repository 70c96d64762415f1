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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_by_deal_id_move_existing_deals_in_time_order() {
    let app = spawn_app().await;
    let mut opened = b2b_deal();
    opened["opened_at"] = json!("2026-01-01T00:00:00Z");
    let deal = app.deal(opened).await;
    let id = deal["id"].as_str().unwrap().to_string();
    let other = app.deal(json!({"funnel_id": MARKETING})).await;
    let unknown = uuid::Uuid::now_v7();
    let lines = |v: &[String]| v.join("\n").into_bytes();
    let first = [
        // After the last move: checked against the row's projection.
        format!(r#"{{"deal_id":"{id}","stage":"mql","at":"2026-02-01T00:00:00Z"}}"#),
        // Backdated within the same batch: the log is read and replayed.
        format!(r#"{{"deal_id":"{id}","stage":"sql","at":"2026-01-15T00:00:00Z"}}"#),
        format!(
            r#"{{"deal_id":"{}","stage":"interest","at":"2026-02-01T00:00:00Z"}}"#,
            other["id"].as_str().unwrap()
        ),
        format!(r#"{{"deal_id":"{unknown}","stage":"mql","at":"2026-02-01T00:00:00Z"}}"#),
        // In effect at that time: mql.
        format!(r#"{{"deal_id":"{id}","stage":"mql","at":"2026-02-02T00:00:00Z"}}"#),
    ];
    let r = app.import(B2B, lines(&first)).await;
    assert_eq!(r["accepted"], 2, "{r}");
    assert_eq!(r["deals_created"], 0);
    let errors: Vec<(i64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["error"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "deal_id: belongs to another funnel"),
            (4, format!("deal {unknown} not found").as_str()),
            (5, "the deal is already in mql at that time"),
        ]
    );
    // A later batch appends at the end again.
    let second = [format!(
        r#"{{"deal_id":"{id}","stage":"lost","at":"2026-03-01T00:00:00Z","reason":" price "}}"#
    )];
    assert_eq!(app.import(B2B, lines(&second)).await["accepted"], 1);

    let deal = app.get_json(&format!("/v1/deals/{id}")).await;
    assert_eq!(deal["stage"], "lost");
    assert_eq!(deal["status"], "lost");
    assert_eq!(deal["close_reason"], "price");
    assert_eq!(deal["stage_entered_at"], "2026-03-01T00:00:00Z");
    assert_eq!(deal["opened_at"], "2026-01-01T00:00:00Z");
    assert_eq!(deal["transition_count"], 4);
    let log = app.log(&id).await;
    let moves: Vec<(i64, Option<&str>, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["seq"].as_i64().unwrap(),
                t["from_stage"].as_str(),
                t["to_stage"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (1, None, "lead"),
            (2, Some("lead"), "mql"),
            (3, Some("lead"), "sql"),
            (4, Some("mql"), "lost"),
        ]
    );
    assert_eq!(rebuild(&app).await, 0);
}
