//! Creating, reading and listing leads; idempotency; bad input.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, lead_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_read_a_lead() {
    let app = spawn_app().await;
    let resp = app.post_lead(&lead_body("  Ada@Example.COM ")).await;
    assert_eq!(resp.status().as_u16(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["lifecycle_stage"], "lead");
    assert_eq!(
        location,
        format!("/v1/leads/{}", created["id"].as_str().unwrap())
    );

    let resp = app.get(&location).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let read: Value = resp.json().await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_lead_is_a_404_problem_and_bad_id_a_422() {
    let app = spawn_app().await;
    let resp = app
        .get("/v1/leads/01936d6a-0000-7000-8000-000000000000")
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = app.get("/v1/leads/nope").await;
    assert_problem(resp, 422, "id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_through_every_lead_once() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let resp = app
            .post_lead(&lead_body(&format!("p{i}@example.com")))
            .await;
        let v: Value = resp.json().await.unwrap();
        created.push(v["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = app.url("/v1/leads?limit=3");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every lead once, in creation order");

    let resp = app.get("/v1/leads?limit=0").await;
    assert_problem(resp, 422, "limit").await;
    let resp = app.get("/v1/leads?cursor=zzz").await;
    assert_problem(resp, 422, "cursor").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_lead_with_the_same_email_is_a_conflict_naming_the_first() {
    let app = spawn_app().await;
    let first: Value = app
        .post_lead(&lead_body("dup@example.com"))
        .await
        .json()
        .await
        .unwrap();
    let resp = app.post_lead(&lead_body("DUP@example.com")).await;
    assert_eq!(resp.status().as_u16(), 409);
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["existing_id"], first["id"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_response_and_rejects_another_body() {
    let app = spawn_app().await;
    let send = |body: Value| {
        app.client
            .post(app.url("/v1/leads"))
            .header("idempotency-key", "key-1")
            .json(&body)
            .send()
    };
    let first = send(lead_body("idem@example.com")).await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first_body = first.text().await.unwrap();
    let again = send(lead_body("idem@example.com")).await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox").await, 1);

    let other = send(lead_body("other@example.com")).await.unwrap();
    assert_problem(other, 422, "header:idempotency-key").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 1);

    // Concurrent retries of one new key do the work once.
    let (a, b) = tokio::join!(
        app.client
            .post(app.url("/v1/leads"))
            .header("idempotency-key", "key-2")
            .json(&lead_body("race@example.com"))
            .send(),
        app.client
            .post(app.url("/v1/leads"))
            .header("idempotency-key", "key-2")
            .json(&lead_body("race@example.com"))
            .send()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_idempotency_keys_are_forgotten() {
    let app = spawn_app().await;
    let send = |email: &str| {
        app.client
            .post(app.url("/v1/leads"))
            .header("idempotency-key", "old")
            .json(&lead_body(email))
            .send()
    };
    assert_eq!(send("a@example.com").await.unwrap().status().as_u16(), 201);
    app.count("WITH u AS (UPDATE idempotency_keys SET created_at = now() - interval '25 hours' RETURNING 1) SELECT count(*) AS n FROM u")
        .await;
    // After 24 h the key is free again: a different body is a new request, not a 422.
    assert_eq!(send("b@example.com").await.unwrap().status().as_u16(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"source": "webinar"}), 422, "email"),
        (json!({"email": "a@example.com"}), 422, "source"),
        (
            json!({"email": "not-an-email", "source": "webinar"}),
            422,
            "email",
        ),
        (
            json!({"email": "a@example.com", "source": "billboard"}),
            422,
            "source",
        ),
        (
            json!({"email": "a@example.com", "source": "affiliate"}),
            422,
            "affiliate_id",
        ),
        (json!({"email": 5, "source": "webinar"}), 422, "email"),
        (
            json!({"email": "a@example.com", "source": "webinar", "emial": "x"}),
            422,
            "emial",
        ),
    ];
    for (body, status, field) in cases {
        let resp = app.post_lead(&body).await;
        assert_problem(resp, status, field).await;
    }

    let resp = app
        .client
        .post(app.url("/v1/leads"))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@example.com","source":"webinar"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415, "header:content-type").await;

    let huge =
        json!({"email": "a@example.com", "source": "webinar", "company": "x".repeat(2 << 20)});
    let resp = app.post_lead(&huge).await;
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    let resp = app
        .client
        .post(app.url("/v1/leads"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    assert_eq!(app.count("SELECT count(*) AS n FROM leads").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox").await, 0);
}
