//! The API conventions on every resource: pages, unknown query parameters, Idempotency-Key
//! on creates, and If-Match / If-None-Match on the mutable ones.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, campaign_body, spawn_app};
use crate::scenarios::scenario;

fn product(name: &str) -> Value {
    json!({"name": name, "price": "100", "variable_cost": "60", "currency": "USD"})
}

fn fixed_cost(name: &str) -> Value {
    json!({"name": name, "amount": "1200", "period": "year", "currency": "USD"})
}

/// The ids of a page's items.
use platform::testing::{instant, page_ids as ids};

/// Pages `path` two at a time and checks the pages hold `expected` (in order), each page
/// named by the previous page's cursor, the last with a null cursor.
async fn pages_two_at_a_time(app: &TestApp, path: &str, expected: &[String]) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=2&cursor={c}"),
            None => format!("{path}?limit=2"),
        };
        let page = app.get_json(&url).await;
        let items = ids(&page);
        assert!(items.len() <= 2, "{page}");
        seen.extend(items);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, expected, "{path}");
    // One page holds them all by default.
    let all = app.get_json(path).await;
    assert_eq!(ids(&all), expected);
    assert_eq!(all["next_cursor"], Value::Null);
}

/// `limit` out of bounds, a cursor not of this endpoint and an unknown parameter: 422s
/// naming each.
async fn refuses_bad_paging(app: &TestApp, path: &str) {
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("limt=2", "limt"),
        ("updated_since=2026-01-01T00:00:00Z&x=1", "x"),
    ] {
        let resp = app.get(&format!("{path}?{query}")).await;
        assert_problem(resp, 422, field).await;
    }
    let top = app.get_json(&format!("{path}?limit=500")).await;
    assert!(top["items"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_collection_pages_by_cursor() {
    let app = spawn_app().await;
    let mut products = Vec::new();
    for i in 0..5 {
        let p = app.create("/v1/products", &product(&format!("p{i}"))).await;
        products.push(p["id"].as_str().unwrap().to_string());
    }
    products.sort();
    pages_two_at_a_time(&app, "/v1/products", &products).await;
    refuses_bad_paging(&app, "/v1/products").await;

    let mut costs = Vec::new();
    for i in 0..3 {
        let c = app
            .create("/v1/fixed-costs", &fixed_cost(&format!("c{i}")))
            .await;
        costs.push(c["id"].as_str().unwrap().to_string());
    }
    costs.sort();
    pages_two_at_a_time(&app, "/v1/fixed-costs", &costs).await;
    refuses_bad_paging(&app, "/v1/fixed-costs").await;

    let campaigns: Vec<String> = ["b-2", "a.1", "c_3", "A-0", "z"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for id in &campaigns {
        app.campaign(id, &products[0]).await;
    }
    let page = app.get_json("/v1/campaigns?limit=500").await;
    let mut in_order = ids(&page);
    assert_eq!(in_order.len(), 5);
    in_order.sort_by_key(|id| campaigns.iter().position(|c| c == id));
    assert_eq!(in_order, campaigns, "the page holds every campaign");
    // Paged two at a time, the same order as one page.
    pages_two_at_a_time(&app, "/v1/campaigns", &ids(&page)).await;
    refuses_bad_paging(&app, "/v1/campaigns").await;

    // A scenario is listed once, at its latest version.
    let mut scenarios = Vec::new();
    for i in 0..3 {
        let s = app
            .create("/v1/scenarios", &scenario(&format!("s{i}"), "100"))
            .await;
        scenarios.push(s["id"].as_str().unwrap().to_string());
    }
    scenarios.sort();
    let resp = app
        .put_if(
            &format!("/v1/scenarios/{}", scenarios[1]),
            &scenario("s1, dearer", "110"),
            Some("\"1\""),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    pages_two_at_a_time(&app, "/v1/scenarios", &scenarios).await;
    let all = app.get_json("/v1/scenarios").await;
    let versions: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 1]);
    assert_eq!(all["items"][1]["name"], "s1, dearer");
    refuses_bad_paging(&app, "/v1/scenarios").await;

    let resp = app
        .get(&format!("/v1/scenarios/{}?version=1&v=2", scenarios[0]))
        .await;
    assert_problem(resp, 422, "v").await;
}

/// Creates with a key twice (one row, the same answer replayed) and with the same key
/// and another body (422). Returns the created body.
async fn replays(app: &TestApp, path: &str, table: &str, body: &Value, other: &Value) -> Value {
    let key = format!("key-{path}");
    let first = app.post_keyed(path, body, &key).await;
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let created: Value = first.json().await.unwrap();
    assert_eq!(etag, "\"1\"");
    assert_eq!(
        location,
        format!("{path}/{}", created["id"].as_str().unwrap())
    );

    let again = app.post_keyed(path, body, &key).await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert_eq!(again.headers()["location"], location.as_str());
    let replayed: Value = again.json().await.unwrap();
    assert_eq!(replayed, created);
    let count = format!("SELECT count(*) AS n FROM {table}");
    assert_eq!(app.count(&count).await, 1, "{path}");

    let resp = app.post_keyed(path, other, &key).await;
    assert_problem(resp, 422, "").await;
    assert_eq!(app.count(&count).await, 1, "{path}");
    // Another key creates another.
    let resp = app.post_keyed(path, other, &format!("{key}-2")).await;
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(app.count(&count).await, 2, "{path}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_create_honours_idempotency_key() {
    let app = spawn_app().await;
    let p = replays(
        &app,
        "/v1/products",
        "products",
        &product("a"),
        &product("b"),
    )
    .await;
    assert_eq!(p["name"], "a");
    let c = replays(
        &app,
        "/v1/fixed-costs",
        "fixed_costs",
        &fixed_cost("rent"),
        &fixed_cost("tools"),
    )
    .await;
    assert_eq!(c["monthly_amount"], "100.00");
    let s = replays(
        &app,
        "/v1/scenarios",
        "scenarios",
        &scenario("today", "100"),
        &scenario("dearer", "110"),
    )
    .await;
    assert_eq!(s["results"]["breakeven"]["units"], "450");
    let pid = p["id"].as_str().unwrap();
    let camp = replays(
        &app,
        "/v1/campaigns",
        "campaigns",
        &campaign_body("spring", pid),
        &campaign_body("summer", pid),
    )
    .await;
    assert_eq!(camp["id"], "spring");
    // Its alert evaluation ran once: one alert row, whatever the replays.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM campaign_alerts WHERE campaign_id = 'spring'")
            .await,
        1
    );

    // A create that conflicts under a fresh key names what exists; nothing is stored
    // under the key, so the same key with a free id then creates.
    let resp = app
        .post_keyed("/v1/campaigns", &campaign_body("spring", pid), "late")
        .await;
    let problem = assert_problem(resp, 409, "").await;
    assert_eq!(problem["existing_id"], "spring");
    let resp = app
        .post_keyed("/v1/campaigns", &campaign_body("spring", pid), "late")
        .await;
    assert_eq!(resp.status().as_u16(), 409);

    let resp = app.post_keyed("/v1/products", &product("x"), "").await;
    assert_problem(resp, 422, "header:idempotency-key").await;
}

/// A resource's If-Match and If-None-Match: 428 without, 412 stale (naming the current
/// ETag, writing nothing), 200 with the new ETag; its GET answers the ETag and 304.
async fn versioned(app: &TestApp, path: &str, first: &Value, second: &Value, field: &str) {
    let got = app.get(path).await;
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["etag"], "\"1\"");

    assert_problem(app.put_if(path, second, None).await, 428, "header:if-match").await;
    let stale = assert_problem(app.put_if(path, second, Some("\"7\"")).await, 412, "").await;
    assert_eq!(stale["current_etag"], "\"1\"");
    assert_problem(app.put_if(path, second, Some("seven")).await, 412, "").await;
    let unchanged = app.get_json(path).await;
    assert_eq!(
        (unchanged["version"].as_i64(), &unchanged[field]),
        (Some(1), &first[field])
    );

    let resp = app.put_if(path, second, Some("\"1\"")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["version"].as_i64(), &body[field]),
        (Some(2), &second[field])
    );
    // The first version's ETag is stale now; a weak one names the current version.
    let stale = assert_problem(app.put_if(path, first, Some("\"1\"")).await, 412, "").await;
    assert_eq!(stale["current_etag"], "\"2\"");
    let resp = app.put_if(path, first, Some("W/\"2\"")).await;
    assert_eq!(resp.headers()["etag"], "\"3\"");

    let resp = app.get_if_none_match(path, "\"3\"").await;
    assert_eq!(resp.status().as_u16(), 304);
    assert_eq!(resp.headers()["etag"], "\"3\"");
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = app.get_if_none_match(path, "\"2\"").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"3\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["version"].as_i64(), &body[field]),
        (Some(3), &first[field])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutable_resource_takes_if_match_and_if_none_match() {
    let app = spawn_app().await;
    let p = app.create("/v1/products", &product("a")).await;
    let pid = p["id"].as_str().unwrap().to_string();
    let mut dearer = product("a");
    dearer["price"] = json!("120");
    versioned(
        &app,
        &format!("/v1/products/{pid}"),
        &product("a"),
        &dearer,
        "price",
    )
    .await;

    let c = app.create("/v1/fixed-costs", &fixed_cost("rent")).await;
    let mut more = fixed_cost("rent");
    more["amount"] = json!("2400");
    versioned(
        &app,
        &format!("/v1/fixed-costs/{}", c["id"].as_str().unwrap()),
        &fixed_cost("rent"),
        &more,
        "amount",
    )
    .await;

    app.campaign("spring", &pid).await;
    let mut bigger = campaign_body("spring", &pid);
    bigger["budget"] = json!("2000");
    versioned(
        &app,
        "/v1/campaigns/spring",
        &campaign_body("spring", &pid),
        &bigger,
        "budget",
    )
    .await;

    let s = app.create("/v1/scenarios", &scenario("today", "100")).await;
    let sid = s["id"].as_str().unwrap();
    versioned(
        &app,
        &format!("/v1/scenarios/{sid}"),
        &scenario("today", "100"),
        &scenario("dearer", "110"),
        "name",
    )
    .await;
    // A past version answers its own ETag.
    let resp = app.get(&format!("/v1/scenarios/{sid}?version=2")).await;
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let resp = app
        .get_if_none_match(&format!("/v1/scenarios/{sid}?version=2"), "\"2\"")
        .await;
    assert_eq!(resp.status().as_u16(), 304);

    // Without If-Match the answer is 428 whatever the body; an unknown id with one is 404.
    let resp = app
        .put_if(&format!("/v1/products/{pid}"), &json!({"junk": true}), None)
        .await;
    assert_problem(resp, 428, "header:if-match").await;
    let missing = "/v1/products/0190d6c4-0000-7000-8000-000000000000";
    let resp = app.put_if(missing, &product("a"), Some("\"1\"")).await;
    assert_problem(resp, 404, "").await;
    let resp = app
        .put_if(
            "/v1/campaigns/nope",
            &campaign_body("nope", &pid),
            Some("\"1\""),
        )
        .await;
    assert_problem(resp, 404, "").await;
}

/// An instant of a response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_sort_by_created_or_updated_either_way_and_sync_by_updated_since() {
    let app = spawn_app().await;
    // The document declares both, in the query; sort with its values.
    let doc = app.openapi_without_faults().await;
    let params = doc["paths"]["/v1/campaigns"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let find = |name: &str| -> Value {
        params
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not declared in {params:?}"))
    };
    let sort = find("sort");
    assert_eq!(
        (&sort["in"], &sort["required"]),
        (&json!("query"), &json!(false))
    );
    assert_eq!(
        sort["schema"]["enum"],
        json!(["created_at", "-created_at", "updated_at", "-updated_at"])
    );
    let about = sort["description"].as_str().unwrap();
    assert!(about.contains("`created_at` (the default)"), "{about}");
    let since = find("updated_since");
    assert_eq!(
        (&since["in"], &since["required"]),
        (&json!("query"), &json!(false))
    );
    assert_eq!(since["schema"]["format"], "date-time", "{since}");

    let pid = app.birdbath().await;
    // Created in an order that is not their ids' order.
    let created: Vec<String> = ["cmp-e", "cmp-a", "cmp-d", "cmp-b", "cmp-c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut opened = Vec::new();
    for id in &created {
        let c = app.campaign(id, &pid).await;
        assert_eq!(c["updated_at"], c["created_at"], "{c}");
        opened.push(c);
    }
    let path = |i: usize| format!("/v1/campaigns/{}", created[i]);
    // Campaign 3 is replaced, then campaign 1 twice: every PUT moves updated_at, and only
    // the campaign's; created_at stays.
    let put = |i: usize, name: &str, etag: &str| {
        let (app, path) = (&app, path(i));
        let mut body = campaign_body(&created[i], &pid);
        body["name"] = json!(name);
        let etag = etag.to_string();
        async move {
            let resp = app.put_if(&path, &body, Some(&etag)).await;
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let three = put(3, "renamed", "\"1\"").await;
    let since = instant(&three["updated_at"]);
    assert!(since > instant(&opened[3]["created_at"]), "{three}");
    assert_eq!(three["created_at"], opened[3]["created_at"]);
    let one = put(1, "renamed", "\"1\"").await;
    let one_again = put(1, "renamed", "\"2\"").await;
    assert_eq!(one_again["version"], 3);
    assert!(instant(&one["updated_at"]) > since, "{one}");
    assert!(
        instant(&one_again["updated_at"]) > instant(&one["updated_at"]),
        "{one_again}"
    );
    assert_eq!(
        app.get_json(&path(1)).await["updated_at"],
        one_again["updated_at"]
    );
    // A refused PUT changes nothing, updated_at included.
    let stale = put_stale(&app, &path(3), &campaign_body(&created[3], &pid)).await;
    assert_eq!(stale, 412);
    assert_eq!(
        app.get_json(&path(3)).await["updated_at"],
        three["updated_at"]
    );
    for i in [0, 2, 4] {
        let c = app.get_json(&path(i)).await;
        assert_eq!(c["updated_at"], c["created_at"], "{c}");
    }

    // The orders, from the order of the writes above.
    let order =
        |idx: &[usize]| -> Vec<String> { idx.iter().map(|&i| created[i].clone()).collect() };
    let by_created = order(&[0, 1, 2, 3, 4]);
    let by_updated = order(&[0, 2, 4, 3, 1]);
    let rev = |v: &[String]| -> Vec<String> { v.iter().rev().cloned().collect() };
    // And the same, from the values the API answers: the sort value, then id.
    let all = app.get_json("/v1/campaigns?limit=500").await;
    type Row = (
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        String,
    );
    let mut rows: Vec<Row> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                instant(&c["created_at"]),
                instant(&c["updated_at"]),
                c["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 5);
    rows.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    assert_eq!(
        rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        by_created
    );
    rows.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
    assert_eq!(
        rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        by_updated
    );

    for (sort, want) in [
        ("created_at", by_created.clone()),
        ("-created_at", rev(&by_created)),
        ("updated_at", by_updated.clone()),
        ("-updated_at", rev(&by_updated)),
    ] {
        let (pages, got) = app
            .paged_ids(&format!("/v1/campaigns?sort={sort}"), 2)
            .await;
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(got, want, "{sort}");
    }
    // No sort is created_at.
    assert_eq!(ids(&all), by_created);

    // updated_since: the campaigns replaced at or after the instant.
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (_, got) = app
        .paged_ids(
            &format!("/v1/campaigns?sort=updated_at&updated_since={since}"),
            1,
        )
        .await;
    assert_eq!(got, order(&[3, 1]));
    let later = (instant(&one_again["updated_at"]) + chrono::Duration::microseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let none = app
        .get_json(&format!("/v1/campaigns?updated_since={later}"))
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());

    // A cursor is bound to its sort; a bad sort or instant is named.
    let first = app.get_json("/v1/campaigns?sort=-updated_at&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let resp = app
        .get(&format!(
            "/v1/campaigns?sort=updated_at&limit=2&cursor={cursor}"
        ))
        .await;
    let body = assert_problem(resp, 422, "cursor").await;
    assert!(body.to_string().contains("sort=-updated_at"), "{body}");
    let resp = app
        .get(&format!("/v1/campaigns?limit=2&cursor={cursor}"))
        .await;
    assert_problem(resp, 422, "cursor").await;
    assert_problem(app.get("/v1/campaigns?sort=id").await, 422, "sort").await;
    assert_problem(
        app.get("/v1/campaigns?updated_since=yesterday").await,
        422,
        "updated_since",
    )
    .await;
}

/// A PUT of `path` under an If-Match no version has; its status.
async fn put_stale(app: &TestApp, path: &str, body: &Value) -> u16 {
    let resp = app.put_if(path, body, Some("\"99\"")).await;
    resp.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_keyset_cursor_is_exact_when_many_share_a_timestamp() {
    let app = spawn_app().await;
    let pid = app.birdbath().await;
    let created = [
        "tie-c", "tie-a", "tie-e", "tie-b", "tie-d", "tie-f", "tie-g",
    ];
    for id in created {
        app.campaign(id, &pid).await;
    }
    // Five of them at one instant, for both times: only their text ids order them.
    let n = app
        .count(
            "WITH u AS (UPDATE campaigns SET created_at = '2026-01-01T00:00:00.123456Z', \
             updated_at = '2026-01-01T00:00:00.123456Z' WHERE id < 'tie-f' \
             RETURNING 1) SELECT count(*) AS n FROM u",
        )
        .await;
    assert_eq!(n, 5);
    // The tied ones come first (their instant is earlier), by id; then the other two.
    let ascending: Vec<String> = [
        "tie-a", "tie-b", "tie-c", "tie-d", "tie-e", "tie-f", "tie-g",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    for (sort, want) in [
        ("created_at", &ascending),
        ("updated_at", &ascending),
        ("-created_at", &descending),
        ("-updated_at", &descending),
    ] {
        for limit in [1, 2, 3] {
            let (_, got) = app
                .paged_ids(&format!("/v1/campaigns?sort={sort}"), limit)
                .await;
            assert_eq!(&got, want, "{sort} limit {limit}");
        }
    }
}
