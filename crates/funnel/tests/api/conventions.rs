//! The API conventions on every funnel route: collections are pages, unknown query
//! parameters are refused, creating POSTs and the import honour `Idempotency-Key`, a
//! repeated deal names the existing one, and a funnel is replaced only under `If-Match`.

use serde_json::{Value, json};

use crate::helpers::*;

/// The ids of a page's items.
use platform::testing::{instant, page_ids as ids};

fn trial(name: &str) -> Value {
    json!({"name": name, "stages": [{"name": "signup"}, {"name": "paid"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnels_are_a_page_by_id() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for n in 0..3 {
        let resp = app.post_json("/v1/funnels", &trial(&format!("t{n}"))).await;
        assert_eq!(resp.status().as_u16(), 201);
        let f: Value = resp.json().await.unwrap();
        created.push(f["id"].as_str().unwrap().to_string());
    }
    let mut expected = vec![B2B.to_string(), MARKETING.to_string()];
    expected.extend(created);
    expected.sort();

    let pages = app.all_pages("/v1/funnels", 2).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert!(pages[2]["next_cursor"].is_null());
    let seen: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(seen, expected);

    // The default page holds them all, and the last page has no cursor.
    let all = app.get_json("/v1/funnels").await;
    assert_eq!(ids(&all), expected);
    assert!(all["next_cursor"].is_null());

    for bad in ["limit=0", "limit=501", "limit=ten"] {
        assert_problem(app.get(&format!("/v1/funnels?{bad}")).await, 422, "limit").await;
    }
    let at_max = app.get_json("/v1/funnels?limit=500").await;
    assert_eq!(ids(&at_max).len(), 5);
    assert_problem(app.get("/v1/funnels?cursor=zzz").await, 422, "cursor").await;
    assert_problem(app.get("/v1/funnels?sort=name").await, 422, "sort").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_log_is_a_page_by_seq() {
    let app = spawn_app().await;
    let deal = app
        .deal(json!({"funnel_id": B2B, "opened_at": "2026-01-01T00:00:00Z"}))
        .await;
    let id = deal["id"].as_str().unwrap();
    for to in ["mql", "sql", "opportunity", "mql"] {
        app.move_ok(id, json!({"to_stage": to})).await;
    }
    let path = format!("/v1/deals/{id}/transitions");
    let pages = app.all_pages(&path, 2).await;
    let seqs: Vec<Vec<i64>> = pages
        .iter()
        .map(|p| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["seq"].as_i64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(seqs, [vec![1, 2], vec![3, 4], vec![5]]);
    let stages: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            strings(&p["items"], "to_stage")
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(stages, ["lead", "mql", "sql", "opportunity", "mql"]);

    let whole = app.get_json(&path).await;
    assert_eq!(whole["items"].as_array().unwrap().len(), 5);
    assert!(whole["next_cursor"].is_null());

    for bad in ["limit=0", "limit=501"] {
        assert_problem(app.get(&format!("{path}?{bad}")).await, 422, "limit").await;
    }
    // A cursor of another collection (the deals', which encodes an id) is not a seq.
    let foreign = platform::http::query::encode_cursor(uuid::Uuid::now_v7());
    assert_problem(
        app.get(&format!("{path}?cursor={foreign}")).await,
        422,
        "cursor",
    )
    .await;
    let zero = platform::http::query::encode_key_cursor("0");
    assert_problem(
        app.get(&format!("{path}?cursor={zero}")).await,
        422,
        "cursor",
    )
    .await;
    assert_problem(app.get(&format!("{path}?after=1")).await, 422, "after").await;
    let missing = format!("/v1/deals/{}/transitions", uuid::Uuid::now_v7());
    assert_problem(app.get(&missing).await, 404, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_are_refused_on_every_get() {
    let app = spawn_app().await;
    let deal = app.deal(b2b_deal()).await;
    let id = deal["id"].as_str().unwrap();
    for path in [
        "/v1/funnels?colour=red".to_string(),
        format!("/v1/funnels/{B2B}?colour=red"),
        format!("/v1/funnels/{B2B}/report?colour=red"),
        format!("/v1/funnels/{B2B}/report.svg?colour=red"),
        format!("/v1/funnels/{B2B}/report?format=csv&colour=red"),
        "/v1/deals?colour=red".to_string(),
        format!("/v1/deals/{id}?colour=red"),
        format!("/v1/deals/{id}/transitions?colour=red"),
    ] {
        let body = assert_problem(app.get(&path).await, 422, "colour").await;
        assert_eq!(
            body["errors"].as_array().unwrap().len(),
            1,
            "{path}: {body}"
        );
    }
    // The known ones still answer.
    let report = app
        .get(&format!(
            "/v1/funnels/{B2B}/report.svg?order=any&cohort=week"
        ))
        .await;
    assert_eq!(report.status().as_u16(), 200);
}

/// Sends the same keyed POST twice and another body once under that key: the repeat
/// replays the first answer and writes nothing; the other body is a 422 and writes
/// nothing. Returns the first answer's body.
async fn replays(app: &TestApp, path: &str, body: Value, other: Value, count: &str) -> Value {
    let key = uuid::Uuid::now_v7().to_string();
    let first = app.post_keyed(path, &key, &body).await;
    assert_eq!(first.status().as_u16(), 201, "{path}");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers().get("location").cloned();
    let first: Value = first.json().await.unwrap();
    let written = app.count(count).await;

    let again = app.post_keyed(path, &key, &body).await;
    assert_eq!(again.status().as_u16(), 201, "{path}");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers().get("location").cloned(), location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count(count).await, written, "{path}: the replay wrote");

    let mismatch = app.post_keyed(path, &key, &other).await;
    assert_problem(mismatch, 422, "header:idempotency-key").await;
    assert_eq!(
        app.count(count).await,
        written,
        "{path}: the mismatch wrote"
    );

    // Without a key the same body is a new request.
    let fresh = app.post_json(path, &body).await;
    assert!(fresh.headers().get("idempotent-replayed").is_none());
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_posts_replay_under_an_idempotency_key() {
    let app = spawn_app().await;
    let funnel = replays(
        &app,
        "/v1/funnels",
        trial("keyed"),
        trial("other"),
        "SELECT count(*) AS n FROM funnels",
    )
    .await;
    assert_eq!(funnel["name"], "keyed");

    let deal = replays(
        &app,
        "/v1/deals",
        json!({"funnel_id": B2B, "owner": "ann"}),
        json!({"funnel_id": B2B, "owner": "bob"}),
        "SELECT count(*) AS n FROM deals",
    )
    .await;
    assert_eq!(deal["owner"], "ann");
    let outbox = app
        .count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.funnel.deal.created.v1'")
        .await;

    let id = deal["id"].as_str().unwrap();
    let key = "move-1";
    let path = format!("/v1/deals/{id}/transitions");
    let first = app
        .post_keyed(&path, key, &json!({"to_stage": "mql"}))
        .await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["transition"]["seq"], 2);
    let again = app
        .post_keyed(&path, key, &json!({"to_stage": "mql"}))
        .await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = app
        .post_keyed(&path, key, &json!({"to_stage": "sql"}))
        .await;
    assert_problem(other, 422, "header:idempotency-key").await;
    assert_eq!(app.log(id).await["items"].as_array().unwrap().len(), 2);
    // The key is scoped to the deal: the same key moves another deal.
    let second = app.deal(b2b_deal()).await;
    let second = second["id"].as_str().unwrap();
    let moved = app
        .post_keyed(
            &format!("/v1/deals/{second}/transitions"),
            key,
            &json!({"to_stage": "mql"}),
        )
        .await;
    assert_eq!(moved.status().as_u16(), 201);
    assert!(moved.headers().get("idempotent-replayed").is_none());
    // A replay publishes nothing more either.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.funnel.deal.created.v1'")
            .await,
        outbox + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_external_id_names_the_existing_deal() {
    let app = spawn_app().await;
    let body = json!({"funnel_id": B2B, "external_id": "crm-42", "owner": "ann"});
    let deal = app.deal(body.clone()).await;
    let resp = app.post_json("/v1/deals", &body).await;
    let problem = assert_problem(resp, 409, "").await;
    assert_eq!(problem["existing_id"], deal["id"]);
    // The id it names is the deal that has the external id.
    let found = app
        .get_json(&format!(
            "/v1/deals/{}",
            problem["existing_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(found["external_id"], "crm-42");
    // Another funnel may use the same external id.
    app.deal(json!({"funnel_id": MARKETING, "external_id": "crm-42"}))
        .await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM deals WHERE external_id = 'crm-42'")
            .await,
        2
    );

    // Concurrent opens of one external id: one wins, the others name it.
    let body = json!({"funnel_id": B2B, "external_id": "race"});
    let sends = (0..6).map(|_| app.post_json("/v1/deals", &body));
    let answers = futures::future::join_all(sends).await;
    let mut winners = Vec::new();
    let mut named = Vec::new();
    for resp in answers {
        match resp.status().as_u16() {
            201 => winners.push(resp.json::<Value>().await.unwrap()["id"].clone()),
            409 => named.push(resp.json::<Value>().await.unwrap()["existing_id"].clone()),
            s => panic!("{s}: {:?}", resp.text().await),
        }
    }
    assert_eq!(winners.len(), 1);
    assert!(named.iter().all(|n| *n == winners[0]), "{named:?}");
}

/// An import body: two deals by external id, one move each, and one bad line.
fn history(prefix: &str) -> Vec<u8> {
    [
        format!(r#"{{"external_id":"{prefix}1","stage":"lead","at":"2026-01-05T10:00:00Z"}}"#),
        format!(r#"{{"external_id":"{prefix}1","stage":"mql","at":"2026-01-06T10:00:00Z"}}"#),
        format!(r#"{{"external_id":"{prefix}2","stage":"lead","at":"2026-01-05T10:00:00Z"}}"#),
        format!(r#"{{"external_id":"{prefix}2","stage":"closing","at":"2026-01-07T10:00:00Z"}}"#),
    ]
    .join("\n")
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_replays_under_an_idempotency_key() {
    let app = spawn_app().await;
    let moves = "SELECT count(*) AS n FROM transitions";
    let first = app.import_raw(B2B, Some("import-1"), history("K")).await;
    assert_eq!(first.status().as_u16(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (
            first["accepted"].clone(),
            first["rejected"].clone(),
            first["deals_created"].clone()
        ),
        (json!(3), json!(1), json!(2)),
        "{first}"
    );
    assert_eq!(first["errors"][0]["line"], 4);
    let written = app.count(moves).await;
    assert_eq!(written, 3);

    let again = app.import_raw(B2B, Some("import-1"), history("K")).await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count(moves).await, written);

    let other = app.import_raw(B2B, Some("import-1"), history("L")).await;
    assert_problem(other, 422, "header:idempotency-key").await;
    assert_eq!(app.count(moves).await, written);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM deals WHERE external_id LIKE 'L%'")
            .await,
        0
    );

    // The key is scoped to the funnel: the same key imports into another funnel.
    let marketing = app
        .import_raw(
            MARKETING,
            Some("import-1"),
            br#"{"external_id":"M1","stage":"awareness","at":"2026-01-05T10:00:00Z"}"#.to_vec(),
        )
        .await;
    assert_eq!(marketing.status().as_u16(), 200);
    assert!(marketing.headers().get("idempotent-replayed").is_none());

    // Without a key the import is applied again (the same lines are now refused moves).
    let unkeyed = app.import(B2B, history("K")).await;
    assert_eq!(unkeyed["deals_created"], 0, "{unkeyed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_import_answers_as_a_streamed_one_does() {
    // The same body, 1,203 lines across three batches, into two fresh apps: one streamed,
    // one held under a key. Their answers and logs agree.
    let mut body = Vec::new();
    for i in 0..401 {
        for (stage, day) in [("lead", 1), ("mql", 2), ("closing", 3)] {
            body.extend_from_slice(
                format!(
                    r#"{{"external_id":"D{i}","stage":"{stage}","at":"2026-01-0{day}T10:00:00Z"}}"#
                )
                .as_bytes(),
            );
            body.push(b'\n');
        }
    }
    let streamed = spawn_app().await;
    let keyed = spawn_app().await;
    let a = streamed.import(B2B, body.clone()).await;
    let b = keyed.import_raw(B2B, Some("k"), body).await;
    assert_eq!(b.status().as_u16(), 200);
    let b: Value = b.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(
        (b["accepted"].clone(), b["rejected"].clone()),
        (json!(802), json!(401))
    );
    let errors = b["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 401);
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[400]["line"], 1203);
    for app in [&streamed, &keyed] {
        assert_eq!(
            app.count("SELECT count(*) AS n FROM transitions").await,
            802
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_funnel_is_replaced_only_under_if_match() {
    let app = spawn_app().await;
    let path = format!("/v1/funnels/{B2B}");
    let read = app.get(&path).await;
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(read.headers()["etag"], "\"1\"");
    let b2b: Value = read.json().await.unwrap();
    let renamed =
        json!({"name": "B2B renamed", "stages": b2b["stages"], "open_on_lead_created": true});

    // No If-Match: 428, nothing written.
    let resp = app.put_json(&path, &renamed).await;
    assert_problem(resp, 428, "header:if-match").await;
    let resp = app.put_if_match(&path, "soon", &renamed).await;
    assert_problem(resp, 412, "").await;
    assert_eq!(app.get_json(&path).await["name"], "B2B sales");

    // The current ETag: replaced, a new revision, the same stage version.
    let resp = app.put_if_match(&path, "\"1\"", &renamed).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["revision"].clone(), body["version"].clone()),
        (json!(2), json!(1))
    );

    // A stale ETag (a concurrent writer's read): 412 naming the current one, nothing written.
    let resp = app
        .put_if_match(
            &path,
            "\"1\"",
            &json!({"name": "lost update", "stages": b2b["stages"]}),
        )
        .await;
    let problem = assert_problem(resp, 412, "").await;
    assert_eq!(problem["current_etag"], "\"2\"");
    assert_eq!(app.get_json(&path).await["name"], "B2B renamed");

    // If-None-Match: 304 for the current ETag (weak or strong), 200 for an old one.
    let cached = |etag: &'static str| {
        app.client
            .get(app.url(&path))
            .header("if-none-match", etag)
            .send()
    };
    let not_modified = cached("\"2\"").await.unwrap();
    assert_eq!(not_modified.status().as_u16(), 304);
    assert_eq!(not_modified.headers()["etag"], "\"2\"");
    assert!(not_modified.bytes().await.unwrap().is_empty());
    assert_eq!(cached("W/\"2\"").await.unwrap().status().as_u16(), 304);
    let modified = cached("\"1\"").await.unwrap();
    assert_eq!(modified.status().as_u16(), 200);
    assert_eq!(modified.headers()["etag"], "\"2\"");
    assert_eq!(
        modified.json::<Value>().await.unwrap()["name"],
        "B2B renamed"
    );

    // A funnel that does not exist is a 404 whatever If-Match says.
    let missing = format!("/v1/funnels/{}", uuid::Uuid::now_v7());
    assert_problem(app.put_if_match(&missing, "\"1\"", &renamed).await, 404, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_filter_by_lead_account_campaign_and_external_id() {
    let app = spawn_app().await;
    let (lead, account) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let a = app
        .deal(
            json!({"funnel_id": B2B, "lead_id": lead, "account_id": account,
                     "campaign_id": "spring", "external_id": "A"}),
        )
        .await;
    let b = app
        .deal(
            json!({"funnel_id": B2B, "account_id": account, "campaign_id": "autumn",
                     "external_id": "B"}),
        )
        .await;
    let c = app
        .deal(json!({"funnel_id": MARKETING, "campaign_id": "spring", "external_id": "A"}))
        .await;
    let id = |d: &Value| d["id"].as_str().unwrap().to_string();
    for (query, expected) in [
        (format!("lead_id={lead}"), vec![id(&a)]),
        (format!("account_id={account}"), vec![id(&b), id(&a)]),
        ("campaign_id=spring".to_string(), vec![id(&c), id(&a)]),
        ("external_id=A".to_string(), vec![id(&c), id(&a)]),
        (format!("external_id=A&funnel_id={B2B}"), vec![id(&a)]),
        (
            format!("account_id={account}&campaign_id=autumn"),
            vec![id(&b)],
        ),
        ("campaign_id=winter".to_string(), vec![]),
    ] {
        let page = app.get_json(&format!("/v1/deals?{query}")).await;
        assert_eq!(ids(&page), expected, "{query}");
    }
    // Paging keeps the filter.
    let pages = app.all_pages("/v1/deals?campaign_id=spring", 1).await;
    let seen: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(seen, [id(&c), id(&a)]);
    assert_problem(
        app.get("/v1/deals?account_id=acme").await,
        422,
        "account_id",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_states_the_conventions() {
    let app = spawn_app().await;
    let doc = app.openapi_without_faults().await;
    let paths = &doc["paths"];
    let params = |path: &str, method: &str| -> Vec<Value> {
        paths[path][method]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let find = |ps: &[Value], name: &str| -> Value {
        ps.iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not declared in {ps:?}"))
    };
    // Every query parameter is in: query and optional.
    for (path, names) in [
        ("/v1/funnels", vec!["limit", "cursor"]),
        ("/v1/funnels/{id}", vec!["version"]),
        ("/v1/deals/{id}/transitions", vec!["limit", "cursor"]),
        (
            "/v1/deals",
            vec![
                "funnel_id",
                "status",
                "stage",
                "lead_id",
                "account_id",
                "campaign_id",
                "external_id",
                "updated_since",
                "sort",
                "limit",
                "cursor",
            ],
        ),
        (
            "/v1/funnels/{id}/report",
            vec![
                "from",
                "to",
                "order",
                "window",
                "breakdown",
                "cohort",
                "version",
                "format",
            ],
        ),
        (
            "/v1/funnels/{id}/report.svg",
            vec![
                "from",
                "to",
                "order",
                "window",
                "breakdown",
                "cohort",
                "version",
                "format",
            ],
        ),
    ] {
        let ps = params(path, "get");
        for name in names {
            let p = find(&ps, name);
            assert_eq!(p["in"], "query", "{path} {name}");
            assert_ne!(p["required"], true, "{path} {name}");
        }
        let queries: Vec<&str> = ps
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(!queries.is_empty(), "{path}");
        assert!(
            paths[path]["get"]["responses"].get("422").is_some(),
            "{path}"
        );
    }
    assert_eq!(
        find(&params("/v1/funnels", "get"), "limit")["schema"]["maximum"],
        500
    );
    let report = params("/v1/funnels/{id}/report", "get");
    let values = |p: Value| -> Vec<String> {
        let schema = &p["schema"];
        let list = schema["enum"]
            .as_array()
            .or_else(|| {
                schema["oneOf"]
                    .as_array()
                    .and_then(|o| o.iter().find_map(|s| s["enum"].as_array()))
            })
            .unwrap_or_else(|| panic!("no enum in {p}"));
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(values(find(&report, "order")), ["strict", "ordered", "any"]);
    assert_eq!(values(find(&report, "cohort")), ["week", "month"]);
    assert_eq!(
        values(find(&report, "breakdown")),
        [
            "source",
            "campaign",
            "channel",
            "owner",
            "segment",
            "methodology",
            "stakeholder_coverage"
        ]
    );
    assert_eq!(
        values(find(&report, "part")),
        ["stages", "summary", "loss_reasons", "segment_summary"]
    );
    let segment = &doc["components"]["schemas"]["Segment"];
    assert!(
        segment["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("summary"))),
        "{segment}"
    );
    assert_eq!(
        values(find(&params("/v1/deals", "get"), "status")),
        ["open", "won", "lost"]
    );
    let sort = find(&params("/v1/deals", "get"), "sort");
    assert_eq!(
        values(sort.clone()),
        ["created_at", "-created_at", "updated_at", "-updated_at"]
    );
    let about = sort["description"].as_str().unwrap();
    assert!(about.contains("`-created_at` (the default"), "{about}");
    let since = find(&params("/v1/deals", "get"), "updated_since");
    assert_eq!(since["schema"]["format"], "date-time", "{since}");
    assert_eq!(
        doc["components"]["schemas"]["DealResponse"]["properties"]["updated_at"]["format"],
        "date-time"
    );
    let schemas = &doc["components"]["schemas"];
    let field = |schema: &str, property: &str| -> Vec<String> {
        schemas[schema]["properties"][property]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{property} lists no values"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(field("DealResponse", "status"), ["open", "won", "lost"]);
    assert_eq!(
        field("TransitionResponse", "origin"),
        ["api", "import", "lead_event"]
    );
    assert_eq!(
        field("DealInput", "methodology"),
        ["challenger", "solution", "spin", "meddicc", "none"]
    );

    // Collections answer the page shape.
    for (path, page) in [
        ("/v1/funnels", "FunnelPage"),
        ("/v1/deals", "DealPage"),
        ("/v1/deals/{id}/transitions", "TransitionPage"),
    ] {
        let schema = &paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"];
        assert_eq!(schema, &json!(format!("#/components/schemas/{page}")));
        let props = &doc["components"]["schemas"][page]["properties"];
        assert!(
            props["items"].is_object() && props["next_cursor"].is_object(),
            "{page}"
        );
    }

    // Idempotency-Key on the creating POSTs and the import; If-Match on the PUT and the
    // PATCH; If-None-Match on the GETs of the funnel and the deal.
    for path in [
        "/v1/funnels",
        "/v1/deals",
        "/v1/deals/{id}/transitions",
        "/v1/funnels/{id}/events",
    ] {
        let key = find(&params(path, "post"), "Idempotency-Key");
        assert_eq!(key["in"], "header", "{path}");
    }
    assert!(
        paths["/v1/funnels/{id}/events"]["post"]["responses"]
            .get("413")
            .is_some()
    );
    assert!(paths["/v1/deals"]["post"]["responses"].get("409").is_some());
    let put = params("/v1/funnels/{id}", "put");
    assert_eq!(find(&put, "If-Match")["required"], true);
    for code in ["412", "428"] {
        assert!(
            paths["/v1/funnels/{id}"]["put"]["responses"]
                .get(code)
                .is_some()
        );
    }
    let patch = params("/v1/deals/{id}", "patch");
    assert_eq!(find(&patch, "If-Match")["required"], true);
    for code in ["412", "428"] {
        assert!(
            paths["/v1/deals/{id}"]["patch"]["responses"]
                .get(code)
                .is_some()
        );
    }
    assert_eq!(
        paths["/v1/deals/{id}"]["patch"]["requestBody"]["content"]["application/merge-patch+json"]
            ["schema"]["$ref"],
        "#/components/schemas/DealPatch"
    );
    assert_eq!(
        field("DealPatch", "methodology"),
        ["challenger", "solution", "spin", "meddicc", "none"]
    );
    for path in ["/v1/funnels/{id}", "/v1/deals/{id}"] {
        find(&params(path, "get"), "If-None-Match");
        assert!(
            paths[path]["get"]["responses"].get("304").is_some(),
            "{path}"
        );
    }
}

/// An instant of a response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_sort_by_created_or_updated_either_way_and_sync_by_updated_since() {
    let app = spawn_app().await;
    // Five B2B deals and a marketing one, opened in this order.
    let mut opened = Vec::new();
    for i in 0..5 {
        let d = app
            .deal(json!({"funnel_id": B2B, "external_id": format!("S{i}")}))
            .await;
        assert_eq!(d["updated_at"], d["created_at"], "{d}");
        opened.push(d);
    }
    opened.push(
        app.deal(json!({"funnel_id": MARKETING, "external_id": "M0"}))
            .await,
    );
    let created: Vec<String> = opened
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    let read = |i: usize| {
        let (app, path) = (&app, format!("/v1/deals/{}", created[i]));
        async move { app.get_json(&path).await }
    };

    // Deal 3 moves through the API, deal 1 through an import, then the marketing deal (5):
    // each change moves the deal's updated_at, and only its.
    let moved = app.move_ok(&created[3], json!({"to_stage": "mql"})).await;
    let since = instant(&moved["deal"]["updated_at"]);
    assert!(since > instant(&opened[3]["created_at"]), "{moved}");
    assert_eq!(read(3).await["updated_at"], moved["deal"]["updated_at"]);
    let at = chrono::Utc::now().to_rfc3339();
    let line = format!(r#"{{"external_id":"S1","stage":"mql","at":"{at}"}}"#);
    let imported = app.import(B2B, line.into_bytes()).await;
    assert_eq!(imported["accepted"], 1, "{imported}");
    let one = read(1).await;
    assert_eq!(one["stage"], "mql");
    assert!(instant(&one["updated_at"]) > since, "{one}");
    let five = app
        .move_ok(&created[5], json!({"to_stage": "interest"}))
        .await["deal"]
        .clone();
    assert!(instant(&five["updated_at"]) > instant(&one["updated_at"]));
    // A refused move changes nothing, updated_at included.
    let resp = app
        .transition(&created[3], json!({"to_stage": "mql"}))
        .await;
    assert_problem(resp, 409, "").await;
    assert_eq!(read(3).await["updated_at"], moved["deal"]["updated_at"]);
    for i in [0, 2, 4] {
        let d = read(i).await;
        assert_eq!(d["updated_at"], d["created_at"], "{d}");
    }

    // The orders, from the order of the writes above.
    let order =
        |idx: &[usize]| -> Vec<String> { idx.iter().map(|&i| created[i].clone()).collect() };
    let by_created = order(&[0, 1, 2, 3, 4, 5]);
    let by_updated = order(&[0, 2, 4, 3, 1, 5]);
    let rev = |v: &[String]| -> Vec<String> { v.iter().rev().cloned().collect() };
    // And the same, from the values the API answers: the sort value, then id.
    let all = app.get_json("/v1/deals?limit=500").await;
    let rows: Vec<(
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        String,
    )> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                instant(&d["created_at"]),
                instant(&d["updated_at"]),
                d["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 6);
    let mut by_value = rows.clone();
    by_value.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    assert_eq!(
        by_value.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        by_created
    );
    by_value.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
    assert_eq!(
        by_value.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        by_updated
    );

    for (sort, want) in [
        ("created_at", by_created.clone()),
        ("-created_at", rev(&by_created)),
        ("updated_at", by_updated.clone()),
        ("-updated_at", rev(&by_updated)),
    ] {
        let (pages, got) = app.paged_ids(&format!("/v1/deals?sort={sort}"), 2).await;
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(got, want, "{sort}");
    }
    // No sort is newest first, as before sort existed.
    assert_eq!(ids(&all), rev(&by_created));
    assert_eq!(
        app.paged_ids("/v1/deals?status=open", 4).await.1,
        rev(&by_created)
    );

    // updated_since: the deals changed at or after the instant, with the other filters.
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (_, got) = app
        .paged_ids(
            &format!("/v1/deals?sort=updated_at&updated_since={since}"),
            1,
        )
        .await;
    assert_eq!(got, order(&[3, 1, 5]));
    let (_, got) = app
        .paged_ids(
            &format!("/v1/deals?sort=-updated_at&updated_since={since}&funnel_id={B2B}&stage=mql"),
            1,
        )
        .await;
    assert_eq!(got, order(&[1, 3]));
    let later = (instant(&five["updated_at"]) + chrono::Duration::microseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let none = app
        .get_json(&format!("/v1/deals?updated_since={later}"))
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());

    // A cursor is bound to its sort; a bad sort or instant is named.
    let first = app.get_json("/v1/deals?sort=updated_at&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let resp = app
        .get(&format!(
            "/v1/deals?sort=created_at&limit=2&cursor={cursor}"
        ))
        .await;
    let body = assert_problem(resp, 422, "cursor").await;
    assert!(body.to_string().contains("sort=updated_at"), "{body}");
    // Without sort, the default (-created_at) is the cursor's sort too.
    let resp = app.get(&format!("/v1/deals?limit=2&cursor={cursor}")).await;
    assert_problem(resp, 422, "cursor").await;
    assert_problem(app.get("/v1/deals?sort=amount").await, 422, "sort").await;
    assert_problem(app.get("/v1/deals?sort=").await, 422, "sort").await;
    assert_problem(
        app.get("/v1/deals?updated_since=yesterday").await,
        422,
        "updated_since",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_keyset_cursor_is_exact_when_many_deals_share_a_timestamp() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let d = app
            .deal(json!({"funnel_id": B2B, "external_id": format!("T{i}")}))
            .await;
        created.push(d["id"].as_str().unwrap().to_string());
    }
    // Five of them at one instant, for both times: only the id orders them.
    let n = app
        .count(
            "WITH u AS (UPDATE deals SET created_at = '2026-01-01T00:00:00.123456Z', \
             updated_at = '2026-01-01T00:00:00.123456Z' WHERE external_id < 'T5' \
             RETURNING 1) SELECT count(*) AS n FROM u",
        )
        .await;
    assert_eq!(n, 5);
    // The tied ones come first (their instant is earlier), by id, which is creation order.
    for (sort, want) in [
        ("created_at", created.clone()),
        ("updated_at", created.clone()),
        ("-created_at", created.iter().rev().cloned().collect()),
        ("-updated_at", created.iter().rev().cloned().collect()),
    ] {
        for limit in [1, 2, 3] {
            let (_, got) = app
                .paged_ids(&format!("/v1/deals?sort={sort}"), limit)
                .await;
            assert_eq!(got, want, "{sort} limit {limit}");
        }
    }
}
