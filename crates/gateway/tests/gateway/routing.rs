//! One namespace, keys, scopes, rate limits, body limits, request ids and the gateway's own
//! documents, with all four services behind one gateway.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ServiceProcess, Suite, expect_status, repo, wait_for};

async fn suite() -> (Vec<ServiceProcess>, Suite) {
    let mut suite = Suite::start().await;
    (std::mem::take(&mut suite.services), suite)
}

/// The status and body the gateway answers to the head of a JSON `POST path` announcing a
/// body of `length` bytes, none of which is sent.
async fn head_only_post(port: u16, key: &str, path: &str, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the gateway accepts");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            })
            .unwrap_or(usize::MAX);
        body.len() >= length
    };
    while !complete(&answer) {
        match tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the gateway answers within 10 s")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = resp.json().await.expect("a problem body");
    assert_eq!(body["status"], status);
    body
}

#[tokio::test]
async fn every_service_is_reached_at_its_own_path_with_one_key() {
    let (services, suite) = suite().await;
    let gw = &suite.gw;
    let key = gw.create_key("everything", &["*"], None);
    let cases = [
        (0, "/v1/leads?limit=1", "/v1/leads"),
        (1, "/v1/funnels", "/v1/funnels"),
        (
            2,
            "/v1/reports/journey-lengths",
            "/v1/reports/journey-lengths",
        ),
        (3, "/v1/products", "/v1/products"),
    ];
    for (i, path, route) in cases {
        let before = services[i].served(route).await;
        let resp = gw.get(&key, path).await;
        assert_eq!(
            resp.status().as_u16(),
            200,
            "GET {path} through the gateway"
        );
        assert_eq!(
            services[i].served(route).await,
            before + 1,
            "GET {path} reached {}",
            services[i].service
        );
    }
    // A path owned by touchpoints under /v1/leads/ goes to touchpoints, not leads.
    let lead = uuid::Uuid::new_v4();
    let before = services[2].served("/v1/leads/{id}/journey").await;
    let _ = gw.get(&key, &format!("/v1/leads/{lead}/journey")).await;
    assert_eq!(
        services[2].served("/v1/leads/{id}/journey").await,
        before + 1
    );
    // An unknown path is the gateway's own 404 problem.
    let body = problem(gw.get(&key, "/v1/nowhere").await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("/v1/nowhere"));

    let ready: Value = reqwest::get(gw.url("/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["instances"]["touchpoints"], 1);
}

#[tokio::test]
async fn keys_scopes_limits_and_revocation() {
    let (_services, suite) = suite().await;
    let gw = &suite.gw;
    let full = gw.create_key("full", &["*"], None);
    let reader = gw.create_key("reader", &["touchpoints:read", "leads:read"], None);
    let slow = gw.create_key("slow", &["leads:read"], Some("3/min"));

    // No key, a malformed one, an unknown one: 401 with a challenge.
    let resp = gw.client.get(gw.url("/v1/leads")).send().await.unwrap();
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    problem(resp, 401).await;
    problem(gw.get("x", "/v1/leads").await, 401).await;
    problem(
        gw.get("ts_0000000000000000000000000000", "/v1/leads").await,
        401,
    )
    .await;

    // A read key may compute attribution but not create a lead.
    let compute = json!({"paths": [{"path": ["email", "paid_search"], "conversions": 3, "value": "120.50", "nulls": 10}]});
    let resp = gw
        .post(&reader, "/v1/attribution/compute?models=linear", &compute)
        .await;
    expect_status(resp, 200).await;
    let body = problem(
        gw.post(&reader, "/v1/leads", &json!({"email": "ada@example.com"}))
            .await,
        403,
    )
    .await;
    assert_eq!(body["scope"], "leads:write");
    assert!(body["detail"].as_str().unwrap().contains("leads:write"));
    problem(gw.get(&reader, "/v1/funnels").await, 403).await;
    let resp = gw
        .post(
            &full,
            "/v1/leads",
            &json!({"email": "ada@example.com", "source": "webinar"}),
        )
        .await;
    expect_status(resp, 201).await;

    // A key over its rate: 429 with Retry-After.
    for _ in 0..3 {
        assert_eq!(gw.get(&slow, "/v1/leads?limit=1").await.status(), 200);
    }
    let resp = gw.get(&slow, "/v1/leads?limit=1").await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    problem(resp, 429).await;

    // `keys list` shows names and scopes, never a key, and when a key was last used.
    let list = gw.keys(&["list"]);
    for k in [&full, &reader, &slow] {
        assert!(!list.contains(k.as_str()), "a key in the listing");
    }
    let row = list
        .lines()
        .find(|l| l.starts_with("reader "))
        .expect("reader listed");
    assert!(row.contains("leads:read,touchpoints:read") && row.contains("active"));
    assert!(
        row.contains("Z ") && !row.contains(" - "),
        "last used is known: {row}"
    );

    // Revocation reaches the running gateway within 2 s, without a restart.
    gw.keys(&["revoke", "full"]);
    let took = wait_for(Duration::from_secs(2), || async {
        gw.get(&full, "/v1/leads?limit=1").await.status() == 401
    })
    .await;
    assert!(took.is_some(), "a revoked key still works after 2 s");
    assert!(
        gw.keys(&["list"])
            .lines()
            .any(|l| l.starts_with("full ") && l.contains("revoked"))
    );
    // A key created now works at once too, and survives a restart of the gateway.
    let late = gw.create_key("late", &["leads:read"], None);
    assert_eq!(gw.get(&late, "/v1/leads?limit=1").await.status(), 200);
}

#[tokio::test]
async fn bodies_request_ids_and_the_gateways_documents() {
    let (services, suite) = suite().await;
    let gw = &suite.gw;
    let key = gw.create_key("docs", &["*"], None);

    // JSON routes take 1 MiB; the streamed bulk route takes far more. The gateway answers
    // 413 from Content-Length alone, before any body: sent by a client that writes the head
    // first, as a body written after the answer would only race the connection's close.
    let (status, body) = head_only_post(gw.port, &key, "/v1/leads", 1_100_000).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a problem body");
    assert_eq!(
        (&body["status"], &body["type"]),
        (
            &json!(413),
            &json!("https://touchstone.dev/problems/payload-too-large")
        )
    );
    let line =
        json!({"anonymous_id": "a-1", "channel": "email", "occurred_at": "2026-01-01T00:00:00Z"})
            .to_string();
    let ndjson = format!("{line}\n").repeat(1_600_000 / line.len());
    assert!(ndjson.len() > 1 << 20);
    let before = services[2].served("/v1/touchpoints/bulk").await;
    let resp = gw
        .post_body(&key, "/v1/touchpoints/bulk", "application/x-ndjson", ndjson)
        .await;
    assert_ne!(resp.status().as_u16(), 413);
    assert!(resp.status().as_u16() < 500, "{}", resp.status());
    assert_eq!(services[2].served("/v1/touchpoints/bulk").await, before + 1);

    // A request id is added, or the client's is kept.
    let resp = gw.get(&key, "/v1/leads?limit=1").await;
    assert!(resp.headers()["x-request-id"].len() >= 8);
    let resp = gw
        .client
        .get(gw.url("/v1/leads?limit=1"))
        .bearer_auth(&key)
        .header("x-request-id", "client-chosen-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "client-chosen-id-1");

    // The client's trace context reaches the service: the event its write produced carries it.
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = gw
        .client
        .post(gw.url("/v1/leads"))
        .bearer_auth(&key)
        .header("traceparent", trace)
        .json(&json!({"email": "trace@example.com", "source": "webinar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let out = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Atd"])
        .arg(services[0].database())
        .arg("-c")
        .arg("SELECT DISTINCT traceparent FROM outbox")
        .output()
        .unwrap();
    let traces = String::from_utf8_lossy(&out.stdout);
    assert!(
        traces.contains("4bf92f3577b34da6a3ce929d0e0e4736"),
        "the outbox carries the client's trace: {traces}"
    );

    // The aggregated document, Swagger UI from our own files, metrics: no key needed.
    let served = reqwest::get(gw.url("/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let checked_in = std::fs::read_to_string(repo().join("deploy/gateway/openapi.json")).unwrap();
    assert_eq!(
        served, checked_in,
        "the served document is the checked-in one"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:8080");
    assert!(doc["paths"]["/v1/leads/{id}/journey"].is_object());
    docs_are_offline(&gw.url("")).await;
    // Each service's own /docs works offline the same way.
    for s in &services {
        docs_are_offline(&format!("http://{}", s.address())).await;
    }
    let metrics = reqwest::get(format!("http://127.0.0.1:{}/metrics", gw.metrics_port))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("haproxy_backend_http_responses_total{proxy=\"be_leads\""));
    assert!(metrics.contains("haproxy_server_status{proxy=\"be_touchpoints\""));
}

/// `/docs` at `base` is Swagger UI loaded from that origin's own files, all served.
async fn docs_are_offline(base: &str) {
    let html = reqwest::get(format!("{base}/docs"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js") && !html.contains("https://"));
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"] {
        let r = reqwest::get(format!("{base}/docs/{asset}")).await.unwrap();
        assert_eq!(r.status(), 200, "{base}/docs/{asset}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{base}/docs/{asset}");
    }
}
