//! The API conventions on every route of the service: pages of `{items, next_cursor}`,
//! unknown query parameters refused, `Idempotency-Key` on creates, and ETag / If-Match /
//! If-None-Match on every mutable resource.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, lead_body, spawn_app};

fn account(name: &str, domain: &str, target: bool) -> Value {
    json!({"name": name, "domains": [domain], "abm_tier": "one_to_few", "target": target})
}

/// Every page of `path` (which has a query already) at `limit`, as lists of `field`.
async fn pages(app: &TestApp, path: &str, field: &str) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let page = app.get_json(&url).await;
        let keys = page
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(keys, ["items", "next_cursor"], "{page}");
        out.push(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i[field].clone())
                .collect(),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
        assert!(out.len() < 20, "paging does not end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_history_is_a_page_and_pages_by_cursor() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("pager@example.com")).await;
    let id = lead["id"].as_str().unwrap();
    for stage in ["mql", "sql", "opportunity"] {
        assert_eq!(app.move_to(id, stage, None).await.status().as_u16(), 200);
    }
    let path = format!("/v1/leads/{id}/lifecycle");
    let got = pages(&app, &format!("{path}?limit=3"), "to_stage").await;
    assert_eq!(
        got,
        [
            vec![json!("lead"), json!("mql"), json!("sql")],
            vec![json!("opportunity")]
        ]
    );
    let all = app.get_json(&path).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    assert_eq!(all["next_cursor"], Value::Null);
    // Exactly a page: no next cursor.
    let exact = app.get_json(&format!("{path}?limit=4")).await;
    assert_eq!(exact["next_cursor"], Value::Null);
    for bad in [
        "limit=0",
        "limit=501",
        "limit=x",
        "cursor=zzz",
        "colour=red",
    ] {
        let field = bad.split('=').next().unwrap();
        assert_problem(app.get(&format!("{path}?{bad}")).await, 422, field).await;
    }
    let resp = app.get(&format!("{path}?limit=500")).await;
    assert_eq!(resp.status().as_u16(), 200);
    // A cursor of another collection (a UUID cursor) is not a sequence number.
    let leads_page = app.get_json("/v1/leads?limit=1").await;
    assert_eq!(leads_page["next_cursor"], Value::Null);
    app.create(&lead_body("second@example.com")).await;
    let leads_page = app.get_json("/v1/leads?limit=1").await;
    let foreign = leads_page["next_cursor"].as_str().unwrap();
    let resp = app.get(&format!("{path}?cursor={foreign}")).await;
    assert_problem(resp, 422, "cursor").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_accounts_page_by_cursor() {
    let app = spawn_app().await;
    for (name, target) in [("A", true), ("B", false), ("C", true), ("D", true)] {
        let resp = app
            .post_json(
                "/v1/accounts",
                &account(name, &format!("{}.example", name.to_lowercase()), target),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 201);
    }
    let got = pages(&app, "/v1/accounts/targets?limit=2", "name").await;
    assert_eq!(
        got,
        [vec![json!("A"), json!("C")], vec![json!("D")]],
        "targets only, in creation order"
    );
    assert_problem(app.get("/v1/accounts/targets?limit=0").await, 422, "limit").await;
    // `target` is implied here, so it is not a parameter of this route.
    assert_problem(
        app.get("/v1/accounts/targets?target=false").await,
        422,
        "target",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_are_422s_naming_each() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("q@example.com")).await;
    let id = lead["id"].as_str().unwrap();
    let resp = app
        .post_json("/v1/accounts", &account("Q", "q.example", true))
        .await;
    let acc: Value = resp.json().await.unwrap();
    let acc = acc["id"].as_str().unwrap();
    for path in [
        "/v1/leads".to_string(),
        "/v1/accounts".to_string(),
        "/v1/accounts/targets".to_string(),
        "/v1/reports/lead-quality".to_string(),
        "/v1/reports/score-distribution".to_string(),
        "/v1/reports/abm-engagement".to_string(),
        format!("/v1/leads/{id}"),
        format!("/v1/leads/{id}/lifecycle"),
        format!("/v1/leads/{id}/score"),
        format!("/v1/leads/{id}/meddicc"),
        format!("/v1/accounts/{acc}"),
        format!("/v1/accounts/{acc}/engagement"),
        "/v1/scoring-model".to_string(),
        "/v1/qualification-rule".to_string(),
    ] {
        let resp = app.get(&format!("{path}?bogus=1&colour=red")).await;
        let body = assert_problem(resp, 422, "bogus").await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["bogus", "colour"], "{path}");
    }
    // A write refuses one too, and writes nothing.
    let resp = app
        .client
        .post(app.url("/v1/leads?dry_run=true"))
        .json(&lead_body("dry@example.com"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 422, "dry_run").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_account_is_idempotent_and_a_taken_domain_names_its_holder() {
    let app = spawn_app().await;
    let send = |body: Value, key: &'static str| {
        app.client
            .post(app.url("/v1/accounts"))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = send(account("Acme", "acme.example", true), "acc-1")
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(first.headers()["etag"], "\"1\"");
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let first_body = first.text().await.unwrap();
    let created: Value = serde_json::from_str(&first_body).unwrap();
    assert_eq!(
        location,
        format!("/v1/accounts/{}", created["id"].as_str().unwrap())
    );

    let again = send(account("Acme", "acme.example", true), "acc-1")
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["etag"], "\"1\"");
    assert_eq!(again.headers()["location"], location.as_str());
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.account.created.v1'")
            .await,
        1
    );

    let other = send(account("Other", "other.example", false), "acc-1")
        .await
        .unwrap();
    assert_problem(other, 422, "header:idempotency-key").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);

    // A new key for a taken domain: 409 naming the account that holds it, and the failed
    // create is not stored under the key, so a fixed body with the same key then succeeds.
    let taken = send(account("Acme twin", "acme.example", false), "acc-2")
        .await
        .unwrap();
    assert_eq!(taken.status().as_u16(), 409);
    let problem: Value = taken.json().await.unwrap();
    assert_eq!(problem["existing_id"], created["id"]);
    let fixed = send(account("Acme twin", "acme-twin.example", false), "acc-2")
        .await
        .unwrap();
    assert_eq!(fixed.status().as_u16(), 201);
    assert!(fixed.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 2);
}

/// 428 without If-Match, 412 with a stale one (naming the current ETag), and the GET's 304.
async fn assert_preconditions(app: &TestApp, get: &str, stale: &str, current: &str) {
    let resp = app.get(get).await;
    assert_eq!(resp.status().as_u16(), 200, "{get}");
    assert_eq!(resp.headers()["etag"], current, "{get}");
    let not_modified = app
        .client
        .get(app.url(get))
        .header("if-none-match", current)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status().as_u16(), 304, "{get}");
    assert_eq!(not_modified.headers()["etag"], current);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let modified = app
        .client
        .get(app.url(get))
        .header("if-none-match", stale)
        .send()
        .await
        .unwrap();
    assert_eq!(modified.status().as_u16(), 200, "{get}");
}

async fn assert_stale(resp: reqwest::Response, current: &str) {
    let body = assert_problem(resp, 412, "").await;
    assert_eq!(body["current_etag"], current, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_and_accounts_need_if_match_and_answer_304() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("etag@example.com")).await;
    let path = format!("/v1/leads/{}", lead["id"].as_str().unwrap());
    assert_preconditions(&app, &path, "\"7\"", "\"1\"").await;
    let resp = app.patch(&path, None, &json!({"title": "CTO"})).await;
    assert_problem(resp, 428, "header:if-match").await;
    assert_stale(
        app.patch(&path, Some("\"7\""), &json!({"title": "CTO"}))
            .await,
        "\"1\"",
    )
    .await;
    assert_problem(
        app.patch(&path, Some("nonsense"), &json!({"title": "CTO"}))
            .await,
        412,
        "",
    )
    .await;
    let resp = app
        .patch(&path, Some("W/\"1\""), &json!({"title": "CTO"}))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    assert_preconditions(&app, &path, "\"1\"", "\"2\"").await;
    // A lifecycle move changes the lead, so it bumps the ETag too.
    let id = lead["id"].as_str().unwrap();
    let resp = app.move_to(id, "mql", None).await;
    assert_eq!(resp.headers()["etag"], "\"3\"");
    assert_stale(
        app.patch(&path, Some("\"2\""), &json!({"title": "CEO"}))
            .await,
        "\"3\"",
    )
    .await;

    let resp = app
        .post_json("/v1/accounts", &account("E", "e.example", true))
        .await;
    let acc: Value = resp.json().await.unwrap();
    let path = format!("/v1/accounts/{}", acc["id"].as_str().unwrap());
    assert_preconditions(&app, &path, "\"2\"", "\"1\"").await;
    let resp = app.patch(&path, None, &json!({"owner": "sam"})).await;
    assert_problem(resp, 428, "header:if-match").await;
    assert_stale(
        app.patch(&path, Some("\"2\""), &json!({"owner": "sam"}))
            .await,
        "\"1\"",
    )
    .await;
    let resp = app
        .patch(&path, Some("\"1\""), &json!({"owner": "sam"}))
        .await;
    assert_eq!(resp.headers()["etag"], "\"2\"");
    assert_preconditions(&app, &path, "\"1\"", "\"2\"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scoring_model_is_replaced_under_if_match_once_per_version() {
    let app = spawn_app().await;
    let model = crate::helpers::test_model();
    let path = "/v1/scoring-model";
    // The built-in default is version 1.
    assert_preconditions(&app, path, "\"2\"", "\"1\"").await;
    assert_problem(app.put_if(path, None, &model).await, 428, "header:if-match").await;
    assert_stale(app.put_if(path, Some("\"2\""), &model).await, "\"1\"").await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM scoring_models").await,
        1
    );
    let resp = app.put_if(path, Some("\"1\""), &model).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["version"], 2);
    assert_eq!(body["versions"], json!([1, 2]));
    assert_preconditions(&app, path, "\"1\"", "\"2\"").await;
    // The same If-Match again is stale: the version it named is no longer current.
    assert_stale(app.put_if(path, Some("\"1\""), &model).await, "\"2\"").await;

    // Two writers racing from the same read: exactly one wins.
    let (a, b) = tokio::join!(
        app.put_if(path, Some("\"2\""), &model),
        app.put_if(path, Some("\"2\""), &model)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    assert_eq!(app.get_json(path).await["versions"], json!([1, 2, 3]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qualification_rule_is_replaced_under_if_match() {
    let app = spawn_app().await;
    let path = "/v1/qualification-rule";
    let rule = json!({"min_total": 10, "minimums": {"champion": 2}});
    // The built-in default is version 0.
    assert_preconditions(&app, path, "\"1\"", "\"0\"").await;
    assert_problem(app.put_if(path, None, &rule).await, 428, "header:if-match").await;
    assert_stale(app.put_if(path, Some("\"1\""), &rule).await, "\"0\"").await;
    let resp = app.put_if(path, Some("\"0\""), &rule).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"version": 1, "rule": rule}));
    assert_preconditions(&app, path, "\"0\"", "\"1\"").await;
    assert_stale(app.put_if(path, Some("\"0\""), &rule).await, "\"1\"").await;
    let resp = app
        .put_if(
            path,
            Some("\"1\""),
            &json!({"min_total": 12, "minimums": {}}),
        )
        .await;
    assert_eq!(resp.headers()["etag"], "\"2\"");
    assert_eq!(app.get_json(path).await["rule"]["min_total"], 12);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM qualification_rules")
            .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meddicc_card_is_versioned_from_zero() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("card@example.com")).await;
    let path = format!("/v1/leads/{}/meddicc", lead["id"].as_str().unwrap());
    let card = |score: u8| {
        let mut m = serde_json::Map::new();
        for n in &leads::domain::meddicc::ELEMENT_NAMES[..7] {
            m.insert(n.to_string(), json!({"score": score}));
        }
        Value::Object(m)
    };
    // No card yet: 404 saying the version to start from.
    let resp = app.get(&path).await;
    let body = assert_problem(resp, 404, "").await;
    assert_eq!(body["current_etag"], "\"0\"");
    assert_problem(
        app.put_if(&path, None, &card(1)).await,
        428,
        "header:if-match",
    )
    .await;
    assert_stale(app.put_if(&path, Some("\"1\""), &card(1)).await, "\"0\"").await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM meddicc_cards").await,
        0
    );
    let resp = app.put_if(&path, Some("\"0\""), &card(1)).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["version"], 1);
    assert_eq!(body["evaluation"]["total"], 7);
    assert_preconditions(&app, &path, "\"0\"", "\"1\"").await;
    assert_stale(app.put_if(&path, Some("\"0\""), &card(2)).await, "\"1\"").await;
    let resp = app.put_if(&path, Some("\"1\""), &card(2)).await;
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let read = app.get_json(&path).await;
    assert_eq!(read["version"], 2);
    assert_eq!(read["evaluation"]["total"], 14);
}

fn ids(pages: &[Vec<Value>]) -> Vec<String> {
    pages
        .iter()
        .flatten()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_sort_by_created_or_updated_either_way_and_sync_by_updated_since() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let lead = app.create(&lead_body(&format!("s{i}@example.com"))).await;
        created.push(lead["id"].as_str().unwrap().to_string());
    }
    // Leads 3 then 1 change later: they move to the end of the updated_at order.
    let mut since = None;
    for i in [3, 1] {
        let resp = app
            .patch(
                &format!("/v1/leads/{}", created[i]),
                Some("\"1\""),
                &json!({"title": "Engineer"}),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 200);
        let lead: Value = resp.json().await.unwrap();
        since.get_or_insert(lead["updated_at"].as_str().unwrap().to_string());
    }
    let reversed: Vec<String> = created.iter().rev().cloned().collect();
    let by_update: Vec<String> = [0, 2, 4, 3, 1]
        .iter()
        .map(|&i| created[i].clone())
        .collect();
    let by_update_desc: Vec<String> = by_update.iter().rev().cloned().collect();
    for (sort, want) in [
        ("created_at", &created),
        ("-created_at", &reversed),
        ("updated_at", &by_update),
        ("-updated_at", &by_update_desc),
    ] {
        let got = pages(&app, &format!("/v1/leads?sort={sort}&limit=2"), "id").await;
        assert_eq!(got.len(), 3, "{sort}");
        assert_eq!(&ids(&got), want, "{sort}");
    }
    // No sort is created_at.
    assert_eq!(ids(&pages(&app, "/v1/leads?limit=2", "id").await), created);

    let since = since.unwrap().replace('+', "%2B");
    let got = pages(
        &app,
        &format!("/v1/leads?sort=updated_at&updated_since={since}&limit=1"),
        "id",
    )
    .await;
    assert_eq!(ids(&got), [created[3].clone(), created[1].clone()]);

    // A cursor is bound to its sort.
    let first = app.get_json("/v1/leads?sort=-updated_at&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let resp = app
        .get(&format!(
            "/v1/leads?sort=updated_at&limit=2&cursor={cursor}"
        ))
        .await;
    let body = assert_problem(resp, 422, "cursor").await;
    assert!(body.to_string().contains("sort=-updated_at"), "{body}");
    assert_problem(app.get("/v1/leads?sort=email").await, 422, "sort").await;
    assert_problem(
        app.get("/v1/leads?updated_since=yesterday").await,
        422,
        "updated_since",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyset_cursor_is_exact_when_many_rows_share_a_timestamp() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let lead = app.create(&lead_body(&format!("t{i}@example.com"))).await;
        created.push(lead["id"].as_str().unwrap().to_string());
    }
    // Five of them at one instant, and the same for their updates: only the id orders them.
    let n = app
        .count(
            "WITH u AS (UPDATE leads SET created_at = '2026-01-01T00:00:00.123456Z', \
             updated_at = '2026-02-01T00:00:00Z' WHERE email LIKE 't%' AND email < 't5' \
             RETURNING 1) SELECT count(*) AS n FROM u",
        )
        .await;
    assert_eq!(n, 5);
    // The five tied ones come first (their instant is earlier), by id, which is creation
    // order; then the other two.
    let ascending = created.clone();
    for (sort, want) in [
        ("created_at", ascending.clone()),
        ("-created_at", ascending.iter().rev().cloned().collect()),
    ] {
        for limit in [1, 2, 3] {
            let got = pages(&app, &format!("/v1/leads?sort={sort}&limit={limit}"), "id").await;
            assert_eq!(ids(&got), want, "{sort} limit {limit}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sort_and_sync_by_updated_since() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let resp = app
            .post_json(
                "/v1/accounts",
                &account(name, &format!("{name}.example"), true),
            )
            .await;
        let a: Value = resp.json().await.unwrap();
        created.push(a["id"].as_str().unwrap().to_string());
    }
    let resp = app
        .patch(
            &format!("/v1/accounts/{}", created[0]),
            Some("\"1\""),
            &json!({"owner": "sam"}),
        )
        .await;
    let changed: Value = resp.json().await.unwrap();
    let since = changed["updated_at"].as_str().unwrap().replace('+', "%2B");
    let by_update: Vec<String> = [1, 2, 3, 0].iter().map(|&i| created[i].clone()).collect();
    let got = pages(&app, "/v1/accounts?sort=updated_at&limit=3", "id").await;
    assert_eq!(ids(&got), by_update);
    let got = pages(&app, "/v1/accounts/targets?sort=-created_at&limit=3", "id").await;
    let reversed: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&got), reversed);
    let got = pages(
        &app,
        &format!("/v1/accounts?updated_since={since}&limit=3"),
        "id",
    )
    .await;
    assert_eq!(ids(&got), [created[0].clone()]);
    assert_problem(app.get("/v1/accounts?sort=name").await, 422, "sort").await;
}
