//! The API conventions on this service's routes: idempotent creates and imports, conditional
//! PUTs with ETags, collections as pages, and unknown query parameters refused.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, touch};
use platform::testing::assert_problem;

async fn post_keyed(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/touchpoints"))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn bulk_keyed(app: &TestApp, key: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/touchpoints/bulk"))
        .header("content-type", "application/x-ndjson")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn replayed(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_touchpoints_replays_a_keyed_retry_and_refuses_another_body() {
    let app = spawn_app().await;
    // An object without an id: without the key, a retry would store a second touch.
    let one = touch(
        "2026-03-01T10:00:00Z",
        "direct",
        "visit",
        json!({"anonymous_id": "v1"}),
    );
    let first = post_keyed(&app, "k-object", &one).await;
    assert_eq!(first.status().as_u16(), 201);
    assert!(!replayed(&first));
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/touchpoints/{}", first["id"].as_str().unwrap())
    );
    let again = post_keyed(&app, "k-object", &one).await;
    assert_eq!(again.status().as_u16(), 201);
    assert!(replayed(&again));
    assert_eq!(again.headers()["location"], location.as_str());
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    app.assert_stored(1, 1).await;

    // An array: the counts are replayed as first answered.
    let many = json!([
        touch(
            "2026-03-01T11:00:00Z",
            "email",
            "email_open",
            json!({"email": "ada@example.com"}),
        ),
        touch(
            "2026-03-01T12:00:00Z",
            "email",
            "email_click",
            json!({"email": "ada@example.com"}),
        ),
    ]);
    let first = post_keyed(&app, "k-array", &many).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["accepted"].as_u64(), first["inserted"].as_u64()),
        (Some(2), Some(2))
    );
    let again = post_keyed(&app, "k-array", &many).await;
    assert!(replayed(&again));
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    app.assert_stored(3, 3).await;

    // The same key with another body: 422, nothing stored.
    let other = touch("2026-03-02T10:00:00Z", "direct", "visit", json!({}));
    let resp = post_keyed(&app, "k-object", &other).await;
    assert_problem(resp, 422, "").await;
    app.assert_stored(3, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_touchpoints_answers_201_for_new_touches_and_200_when_all_were_stored() {
    let app = spawn_app().await;
    let id = Uuid::now_v7();
    let one = touch("2026-03-01T10:00:00Z", "direct", "visit", json!({"id": id}));
    let first = app.post_json("/v1/touchpoints", &one).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], id.to_string());
    // The same id again: nothing new, the stored touch answered with 200.
    let again = app.post_json("/v1/touchpoints", &one).await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = touch("2026-03-01T11:00:00Z", "direct", "visit", json!({}));
    let array = json!([one, other]);
    let resp = app.post_json("/v1/touchpoints", &array).await;
    assert_eq!(resp.status().as_u16(), 201);
    let counts: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            &counts["accepted"],
            &counts["inserted"],
            &counts["duplicates"]
        ),
        (&json!(2), &json!(1), &json!(1))
    );
    let ids = counts["ids"].clone();
    let resp = app
        .post_json(
            "/v1/touchpoints",
            &json!([touch(
                "2026-03-01T10:00:00Z",
                "direct",
                "visit",
                json!({"id": id})
            )]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let counts: Value = resp.json().await.unwrap();
    assert_eq!(
        (&counts["inserted"], &counts["duplicates"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(ids[0], id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_import_replays_refuses_another_body_and_a_retry_stores_nothing_twice() {
    let app = spawn_app().await;
    // Four lines, none with an id (chunks of three in tests), one invalid.
    let body = [
        r#"{"occurred_at":"2026-03-01T10:00:00Z","channel":"direct","type":"visit"}"#,
        r#"{"occurred_at":"2026-03-01T11:00:00Z","channel":"email","type":"email_open","email":"ada@example.com"}"#,
        r#"{"occurred_at":"2026-03-01T12:00:00Z","channel":"bogus","type":"visit"}"#,
        r#"{"occurred_at":"2026-03-01T13:00:00Z","channel":"direct","type":"visit"}"#,
    ]
    .join("\n");
    let first = bulk_keyed(&app, "import-1", &body).await;
    assert_eq!(first.status().as_u16(), 200);
    assert!(!replayed(&first));
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (&first["inserted"], &first["rejected"]),
        (&json!(3), &json!(1))
    );
    app.assert_stored(3, 3).await;

    let again = bulk_keyed(&app, "import-1", &body).await;
    assert_eq!(again.status().as_u16(), 200);
    assert!(replayed(&again));
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    app.assert_stored(3, 3).await;

    // Another body with the same key: 422, and none of its lines stored.
    let other = r#"{"occurred_at":"2026-03-02T10:00:00Z","channel":"direct","type":"visit"}"#;
    let resp = bulk_keyed(&app, "import-1", other).await;
    assert_problem(resp, 422, "").await;
    app.assert_stored(3, 3).await;

    // A first attempt that stopped before answering leaves touches but no record: the retry
    // derives the same ids from the key and line numbers, so it stores nothing twice.
    let forgotten = app
        .count("WITH d AS (DELETE FROM idempotency_keys RETURNING 1) SELECT count(*) AS n FROM d")
        .await;
    assert_eq!(forgotten, 1);
    let retry = bulk_keyed(&app, "import-1", &body).await;
    assert!(!replayed(&retry));
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(
        (&retry["inserted"], &retry["duplicates"]),
        (&json!(0), &json!(3))
    );
    app.assert_stored(3, 3).await;

    // Without a key the same body is new touches (fresh ids).
    app.bulk(body.into_bytes()).await;
    app.assert_stored(6, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affiliate_puts_are_conditional_and_gets_answer_etags() {
    let app = spawn_app().await;
    let terms = json!({"model": "flat_cpa", "amount": "100", "currency": "EUR"});
    let path = "/v1/affiliates/blog";

    // A new affiliate: an unconditional PUT is 428 naming If-None-Match, If-Match is 412.
    let resp = app.put_json(path, &terms).await;
    assert_problem(resp, 428, "header:if-none-match").await;
    let resp = app.put_if(path, ("if-match", "\"1\""), &terms).await;
    assert_problem(resp, 412, "").await;
    let resp = app.put_if(path, ("if-none-match", "\"1\""), &terms).await;
    assert_problem(resp, 422, "header:if-none-match").await;
    assert_eq!(app.get(path).await.status().as_u16(), 404);

    let created = app.create_affiliate("blog", &terms).await;
    assert_eq!(created["version"], 1);
    assert_eq!(created["amount"], "100");

    // Existing: 428 without If-Match, 412 when stale or create-only, each naming the ETag.
    let changed = json!({"model": "flat_cpa", "amount": "120", "currency": "EUR"});
    let resp = app.put_json(path, &changed).await;
    assert_problem(resp, 428, "header:if-match").await;
    let resp = app.put_if(path, ("if-match", "\"7\""), &changed).await;
    let body = assert_problem(resp, 412, "").await;
    assert_eq!(body["current_etag"], "\"1\"");
    let resp = app.put_if(path, ("if-none-match", "*"), &changed).await;
    let body = assert_problem(resp, 412, "").await;
    assert_eq!(body["current_etag"], "\"1\"");
    assert_eq!(app.get_json(path).await["amount"], "100");

    let resp = app.put_if(path, ("if-match", "\"1\""), &changed).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let replaced: Value = resp.json().await.unwrap();
    assert_eq!(
        (&replaced["amount"], &replaced["version"]),
        (&json!("120"), &json!(2))
    );
    // The old ETag is stale now.
    let resp = app.put_if(path, ("if-match", "\"1\""), &terms).await;
    assert_problem(resp, 412, "").await;

    // GET: the ETag, and 304 for the current one only.
    let resp = app.get(path).await;
    assert_eq!(resp.headers()["etag"], "\"2\"");
    assert_eq!(resp.json::<Value>().await.unwrap(), replaced);
    let cond = |etag: &'static str| {
        app.client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
    };
    let resp = cond("\"2\"").await.unwrap();
    assert_eq!(resp.status().as_u16(), 304);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    assert_eq!(cond("\"1\"").await.unwrap().status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affiliates_page_by_id() {
    let app = spawn_app().await;
    for id in ["c", "a", "b"] {
        let terms = json!({"name": id, "model": "flat_cpl", "amount": "5", "currency": "EUR"});
        app.create_affiliate(id, &terms).await;
    }
    let first = app.get_json("/v1/affiliates?limit=2").await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first), ["a", "b"]);
    assert_eq!(first["items"][0]["amount"], "5");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!("/v1/affiliates?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second), ["c"]);
    assert_eq!(second["next_cursor"], Value::Null);
    let all = app.get_json("/v1/affiliates").await;
    assert_eq!(ids(&all), ["a", "b", "c"]);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=%21%21", "cursor"),
        ("sort=id", "sort"),
    ] {
        let resp = app.get(&format!("/v1/affiliates?{query}")).await;
        assert_problem(resp, 422, field).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touchpoints_are_searched_by_filter_and_paged_by_id() {
    let app = spawn_app().await;
    let lead = Uuid::now_v7();
    let ids: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    app.ingest(&[
        touch(
            "2026-03-01T10:00:00Z",
            "paid_search",
            "click",
            json!({"id": ids[0], "lead_id": lead, "campaign_id": "spring"}),
        ),
        touch(
            "2026-03-02T10:00:00Z",
            "email",
            "email_open",
            json!({"id": ids[1], "lead_id": lead}),
        ),
        touch(
            "2026-03-03T10:00:00Z",
            "paid_search",
            "click",
            json!({"id": ids[2], "anonymous_id": "anon-9", "campaign_id": "spring"}),
        ),
        touch(
            "2026-03-04T10:00:00Z",
            "display",
            "impression",
            json!({"id": ids[3], "anonymous_id": "anon-9", "campaign_id": "autumn"}),
        ),
        touch(
            "2026-03-05T10:00:00Z",
            "paid_search",
            "click",
            json!({"id": ids[4], "lead_id": lead, "campaign_id": "spring"}),
        ),
        touch(
            "2026-03-06T10:00:00Z",
            "direct",
            "visit",
            json!({"id": ids[5]}),
        ),
    ])
    .await;
    let ids_of = |page: &Value| -> Vec<Uuid> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let search = |q: String| {
        let app = &app;
        async move { app.get_json(&format!("/v1/touchpoints?{q}")).await }
    };
    assert_eq!(
        ids_of(&search(format!("lead_id={lead}")).await),
        [ids[0], ids[1], ids[4]]
    );
    assert_eq!(
        ids_of(&search("anonymous_id=anon-9".into()).await),
        [ids[2], ids[3]]
    );
    assert_eq!(
        ids_of(&search("campaign_id=spring".into()).await),
        [ids[0], ids[2], ids[4]]
    );
    assert_eq!(
        ids_of(
            &search(
                "channel=paid_search&campaign_id=spring&lead_id=".to_string() + &lead.to_string()
            )
            .await
        ),
        [ids[0], ids[4]]
    );
    // `from` is inclusive, `to` exclusive.
    let window = search("from=2026-03-02T10:00:00Z&to=2026-03-05T10:00:00Z".into()).await;
    assert_eq!(ids_of(&window), [ids[1], ids[2], ids[3]]);
    assert_eq!(window["items"][2]["campaign_id"], "autumn");

    // Pages of two, in id order, to the end.
    let mut seen = Vec::new();
    let mut q = "limit=2".to_string();
    let mut pages = 0;
    loop {
        let page = search(q.clone()).await;
        pages += 1;
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(c) => q = format!("limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!((seen, pages), (ids.clone(), 3));

    for (query, field) in [
        ("channel=carrier_pigeon", "channel"),
        ("lead_id=nope", "lead_id"),
        ("from=yesterday", "from"),
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("cursor=abc", "cursor"),
        ("email=a%40b.c", "email"),
    ] {
        let resp = app.get(&format!("/v1/touchpoints?{query}")).await;
        assert_problem(resp, 422, field).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_are_refused_on_every_report() {
    let app = spawn_app().await;
    for path in [
        "/v1/reports/campaign-performance",
        "/v1/reports/affiliates",
        "/v1/reports/journey-lengths",
        "/v1/reports/top-paths",
        "/v1/reports/attribution-comparison",
        "/v1/reports/attribution-comparison.svg",
        "/v1/attribution",
    ] {
        assert_eq!(app.get(path).await.status().as_u16(), 200, "{path}");
        let resp = app.get(&format!("{path}?colour=red")).await;
        assert_problem(resp, 422, "colour").await;
    }
    let resp = app
        .post_json("/v1/attribution/compute?colour=red", &json!({"paths": []}))
        .await;
    assert_problem(resp, 422, "colour").await;

    // Single resources take no query parameter at all.
    let id = Uuid::now_v7();
    app.ingest(&[touch(
        "2026-03-01T10:00:00Z",
        "direct",
        "visit",
        json!({"id": id}),
    )])
    .await;
    let terms = json!({"model": "flat_cpl", "amount": "5", "currency": "EUR"});
    app.create_affiliate("blog", &terms).await;
    for path in [
        format!("/v1/touchpoints/{id}"),
        "/v1/affiliates/blog".to_string(),
        format!("/v1/deals/{}/attribution", Uuid::now_v7()),
        format!("/v1/leads/{}/journey", Uuid::now_v7()),
    ] {
        let resp = app.get(&format!("{path}?colour=red")).await;
        assert_problem(resp, 422, "colour").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_declares_the_shapes_answered() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    let post = &doc["paths"]["/v1/touchpoints"]["post"];
    let body = &post["requestBody"]["content"]["application/json"]["schema"];
    let body = resolve(&doc, body);
    let shapes: Vec<&str> = body["oneOf"]
        .as_array()
        .expect("a oneOf request body")
        .iter()
        .map(|s| {
            let s = resolve(&doc, s);
            s["type"].as_str().unwrap_or("?")
        })
        .collect();
    assert_eq!(shapes, ["object", "array"]);
    for status in ["200", "201"] {
        let schema = resolve(
            &doc,
            &post["responses"][status]["content"]["application/json"]["schema"],
        );
        let refs: Vec<&str> = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["$ref"].as_str())
            .collect();
        assert_eq!(
            refs,
            [
                "#/components/schemas/TouchpointResponse",
                "#/components/schemas/IngestResponse"
            ],
            "{status}"
        );
    }
    let is_query = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == name && p["in"] == "query")
    };
    for name in [
        "lead_id",
        "anonymous_id",
        "campaign_id",
        "channel",
        "from",
        "to",
        "limit",
        "cursor",
    ] {
        assert!(is_query("/v1/touchpoints", name), "{name}");
    }
    for name in ["limit", "cursor", "lookback_days"] {
        assert!(is_query("/v1/leads/{id}/journey", name), "{name}");
    }
    assert!(is_query("/v1/affiliates", "cursor"));
    let channel = doc["paths"]["/v1/touchpoints"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "channel")
        .unwrap();
    assert_eq!(channel["schema"]["enum"].as_array().unwrap().len(), 15);
}

/// A schema, or the component its `$ref` names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}
