//! `POST /v1/leads/import`: NDJSON and CSV, per-line errors, duplicates, insert and upsert,
//! the events published, and idempotent retries.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, lead_body, spawn_app};

const NDJSON: &str = "application/x-ndjson";
const CSV: &str = "text/csv";

impl TestApp {
    async fn import(
        &self,
        query: &str,
        content_type: &str,
        key: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/v1/leads/import{query}")))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        req.send().await.unwrap()
    }

    /// An import that answers 200, and its report.
    async fn imported(&self, query: &str, content_type: &str, body: &str) -> Value {
        let resp = self.import(query, content_type, None, body).await;
        assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    /// The live lead with this email.
    async fn lead_by_email(&self, email: &str) -> Value {
        let page = self.get_json(&format!("/v1/leads?q={email}")).await;
        let items = page["items"].as_array().unwrap();
        let found: Vec<&Value> = items.iter().filter(|l| l["email"] == email).collect();
        assert_eq!(found.len(), 1, "{email} in {page}");
        found[0].clone()
    }

    async fn leads_stored(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM leads").await
    }
}

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The (line, fields) of each rejected line of a report.
fn rejected(report: &Value) -> Vec<(u64, Vec<String>)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let fields = e["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| f["field"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (e["line"].as_u64().unwrap(), fields)
        })
        .collect()
}

fn counts(report: &Value) -> [u64; 7] {
    [
        "lines",
        "accepted",
        "inserted",
        "updated",
        "unchanged",
        "duplicates",
        "rejected",
    ]
    .map(|k| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {report}"))
    })
}

/// A target account on `engines.dev` and the test model: a VP there has fit 70.
async fn scored_setup(app: &TestApp) -> String {
    app.use_test_model().await;
    let resp = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "Engines", "domains": ["engines.dev"], "abm_tier": "one_to_few", "target": true}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    let account: Value = resp.json().await.unwrap();
    account["id"].as_str().unwrap().to_string()
}

/// What must match between a lead imported and one created alone from the same fields.
fn scored(lead: &Value) -> Value {
    json!({
        "account_id": lead["account_id"], "fit_score": lead["fit_score"],
        "engagement_score": lead["engagement_score"], "grade": lead["grade"],
        "lifecycle_stage": lead["lifecycle_stage"], "title": lead["title"],
        "source": lead["source"], "consent": lead["consent"], "properties": lead["properties"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ndjson_import_stores_leads_matched_and_scored_as_single_creates() {
    let app = spawn_app().await;
    let account = scored_setup(&app).await;
    let shapes = [
        json!({"source": "webinar", "title": "VP Sales", "company": "Engines"}),
        json!({"source": "referral", "title": "Engineer", "consent": true, "properties": {"tier": 2}}),
        json!({"source": "sdr", "lifecycle_stage": "subscriber"}),
    ];
    let line = |i: usize, domain: &str, prefix: &str| {
        let mut l = shapes[i].clone();
        l["email"] = json!(format!("{prefix}{i}@{domain}"));
        l
    };
    let domains = ["engines.dev", "engines.dev", "gmail.com"];
    let body = ndjson(
        &(0..3)
            .map(|i| line(i, domains[i], "Imp"))
            .collect::<Vec<_>>(),
    );
    let report = app.imported("", NDJSON, &body).await;
    assert_eq!(counts(&report), [3, 3, 3, 0, 0, 0, 0], "{report}");
    assert_eq!(report["errors"], json!([]));
    for (i, domain) in domains.iter().enumerate() {
        let alone = app.create(&line(i, domain, "alone")).await;
        let imported = app.lead_by_email(&format!("imp{i}@{domain}")).await;
        assert_eq!(scored(&imported), scored(&alone), "line {}", i + 1);
    }
    let vp = app.lead_by_email("imp0@engines.dev").await;
    assert_eq!(vp["account_id"], json!(account));
    assert_eq!(vp["fit_score"], json!(70.0));
    assert_eq!(
        app.lead_by_email("imp2@gmail.com").await["account_id"],
        Value::Null
    );
    // Each imported lead has its creation in its lifecycle and its first score recorded.
    let id = vp["id"].as_str().unwrap();
    let history = app.get_json(&format!("/v1/leads/{id}/lifecycle")).await;
    assert_eq!(history["items"][0]["to_stage"], "lead");
    let score = app.get_json(&format!("/v1/leads/{id}/score")).await;
    assert_eq!(
        score["history"].as_array().map(Vec::len),
        Some(1),
        "{score}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_reported_with_their_line_and_fields_and_the_good_ones_stored() {
    let app = spawn_app().await;
    let body = [
        json!({"email": "good1@example.com", "source": "webinar"}).to_string(),
        json!({"email": "nope", "source": "webinar", "title": "x".repeat(201)}).to_string(),
        "{not json".to_string(),
        String::new(),
        json!({"email": "nosource@example.com"}).to_string(),
        json!({"email": "colour@example.com", "source": "webinar", "colour": "red"}).to_string(),
        json!({"email": "acct@example.com", "source": "webinar", "account_id": "0190a5e4-0000-7000-8000-000000000000"}).to_string(),
        json!({"email": "good2@example.com", "source": "event"}).to_string(),
    ]
    .join("\n");
    let report = app.imported("", NDJSON, &body).await;
    // The blank line 4 is neither accepted nor rejected.
    assert_eq!(counts(&report), [7, 2, 2, 0, 0, 0, 5], "{report}");
    assert_eq!(
        rejected(&report),
        vec![
            (2, vec!["email".to_string(), "title".to_string()]),
            (3, vec![]),
            (5, vec!["source".to_string()]),
            (6, vec!["colour".to_string()]),
            (7, vec!["account_id".to_string()]),
        ],
        "{report}"
    );
    assert!(
        report["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("column"),
        "{report}"
    );
    assert_eq!(app.leads_stored().await, 2);
    app.lead_by_email("good1@example.com").await;
    app.lead_by_email("good2@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_email_in_the_file_is_rejected_and_the_first_line_wins() {
    let app = spawn_app().await;
    let body = ndjson(&[
        json!({"email": "  Twin@Example.com ", "source": "webinar", "first_name": "First"}),
        json!({"email": "other@example.com", "source": "webinar"}),
        json!({"email": "twin@example.COM", "source": "webinar", "first_name": "Second"}),
        json!({"email": "TWIN@example.com", "source": "webinar", "first_name": "Third"}),
    ]);
    let report = app.imported("?mode=upsert", NDJSON, &body).await;
    assert_eq!(counts(&report), [4, 2, 2, 0, 0, 2, 2], "{report}");
    assert_eq!(
        rejected(&report),
        vec![
            (3, vec!["email".to_string()]),
            (4, vec!["email".to_string()])
        ]
    );
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{report}"
    );
    let twin = app.lead_by_email("twin@example.com").await;
    assert_eq!(twin["first_name"], "First");
    assert_eq!(app.leads_stored().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_rejects_an_existing_email_and_upsert_updates_that_lead() {
    let app = spawn_app().await;
    let existing = app
        .create(&json!({"email": "known@example.com", "source": "webinar", "first_name": "Ada", "company": "Engines"}))
        .await;
    let id = existing["id"].as_str().unwrap();
    let body = ndjson(&[
        json!({"email": "KNOWN@example.com", "source": "webinar", "title": "CTO"}),
        json!({"email": "fresh@example.com", "source": "webinar"}),
    ]);
    let report = app.imported("", NDJSON, &body).await;
    assert_eq!(counts(&report), [2, 1, 1, 0, 0, 0, 1], "{report}");
    assert_eq!(rejected(&report), vec![(1, vec!["email".to_string()])]);
    assert_eq!(report["errors"][0]["existing_id"], json!(id));
    assert_eq!(
        app.lead_by_email("known@example.com").await["title"],
        Value::Null
    );

    let report = app.imported("?mode=upsert", NDJSON, &body).await;
    // fresh@ now exists too, with the same values: unchanged.
    assert_eq!(counts(&report), [2, 2, 0, 1, 1, 0, 0], "{report}");
    let known = app.lead_by_email("known@example.com").await;
    assert_eq!(known["id"], json!(id));
    assert_eq!(known["title"], "CTO");
    // What the line does not give stays.
    assert_eq!(known["first_name"], "Ada");
    assert_eq!(known["company"], "Engines");
    assert_eq!(known["version"], 2);
    assert_eq!(app.leads_stored().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_publishes_one_created_per_new_lead_and_one_updated_per_upserted_lead() {
    let app = spawn_app().await;
    app.create(&lead_body("before@example.com")).await;
    assert_eq!(app.wait_outbox_drained(Duration::from_secs(10)).await, 0);
    let mut tap = app.tap("#").await;
    let body = ndjson(&[
        json!({"email": "new1@example.com", "source": "webinar"}),
        json!({"email": "before@example.com", "source": "webinar", "title": "Director"}),
        json!({"email": "new2@example.com", "source": "webinar"}),
        json!({"email": "new1@example.com", "source": "webinar"}),
    ]);
    let report = app.imported("?mode=upsert", NDJSON, &body).await;
    assert_eq!(counts(&report), [4, 3, 2, 1, 0, 1, 1], "{report}");
    // A marker after the import: the relay publishes in order, so everything the import
    // published comes before it.
    let marker = app.create(&lead_body("marker@example.com")).await;
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let delivery = tap
            .next(Duration::from_secs(10))
            .await
            .expect("events up to the marker");
        let event = contracts::parse_structured(&delivery.data).expect("a valid CloudEvent");
        if event.subject.as_deref() == marker["id"].as_str() {
            break;
        }
        let payload = &event.data;
        seen.entry(event.ty.clone())
            .or_default()
            .push(payload["email"].as_str().unwrap_or_default().to_string());
    }
    let mut created = seen
        .remove("touchstone.leads.lead.created.v1")
        .unwrap_or_default();
    created.sort();
    assert_eq!(created, ["new1@example.com", "new2@example.com"]);
    assert_eq!(
        seen.remove("touchstone.leads.lead.updated.v1")
            .unwrap_or_default(),
        ["before@example.com"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_key_replays_the_answer_and_creates_nothing_twice() {
    let app = spawn_app().await;
    let body = ndjson(&[
        json!({"email": "k1@example.com", "source": "webinar"}),
        json!({"email": "nope", "source": "webinar"}),
        json!({"email": "k2@example.com", "source": "webinar"}),
    ]);
    let first = app.import("", NDJSON, Some("import-1"), &body).await;
    assert_eq!(first.status().as_u16(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(counts(&first), [3, 2, 2, 0, 0, 0, 1], "{first}");

    let again = app.import("", NDJSON, Some("import-1"), &body).await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.leads_stored().await, 2);
    let events =
        "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.created.v1'";
    assert_eq!(app.count(events).await, 2);

    // Another body, or the same body under another mode, with the key: a 422.
    let other = ndjson(&[json!({"email": "k3@example.com", "source": "webinar"})]);
    let resp = app.import("", NDJSON, Some("import-1"), &other).await;
    assert_problem(resp, 422, "").await;
    let resp = app
        .import("?mode=upsert", NDJSON, Some("import-1"), &body)
        .await;
    assert_problem(resp, 422, "").await;

    // A first attempt that stored its leads but never answered (its record is gone): the
    // retry counts those leads as its own and stores nothing twice.
    let gone = "WITH d AS (DELETE FROM idempotency_keys RETURNING 1) SELECT count(*) AS n FROM d";
    assert_eq!(app.count(gone).await, 1);
    let retry = app.import("", NDJSON, Some("import-1"), &body).await;
    assert_eq!(retry.status().as_u16(), 200);
    assert!(retry.headers().get("idempotent-replayed").is_none());
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(app.leads_stored().await, 2);
    assert_eq!(app.count(events).await, 2);
    // Without the key, the same body finds the emails taken.
    let report = app.imported("", NDJSON, &body).await;
    assert_eq!(counts(&report), [3, 0, 0, 0, 0, 0, 3], "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_reads_its_header_quotes_and_typed_cells_as_ndjson_does() {
    let app = spawn_app().await;
    let account = scored_setup(&app).await;
    let body = "\u{feff}email,first_name,title,source,consent,properties,company,account_id\r\n\
        csv1@engines.dev,\"Ada, Countess\",VP Research,webinar,true,\"{\"\"tier\"\": 1}\",,\r\n\
        \r\n\
        csv2@gmail.com,\"Multi\nline\",,referral,false,,Engines,\r\n\
        bad@engines.dev,,,webinar,maybe,[1],,not-a-uuid\r\n\
        short@engines.dev,Only\r\n\
        CSV1@engines.dev,Again,,webinar,,,,\r\n";
    let report = app.imported("", CSV, body).await;
    // The quoted line break is read as part of the cell (which a name may not hold), and
    // the rows after it keep their line numbers.
    assert_eq!(counts(&report), [5, 1, 1, 0, 0, 1, 4], "{report}");
    assert_eq!(
        rejected(&report),
        vec![
            (4, vec!["first_name".into()]),
            (6, vec!["consent".into(), "account_id".into()]),
            (7, vec![]),
            (8, vec!["email".into()]),
        ],
        "{report}"
    );
    let ada = app.lead_by_email("csv1@engines.dev").await;
    assert_eq!(ada["first_name"], "Ada, Countess");
    assert_eq!(ada["consent"], true);
    assert_eq!(ada["properties"], json!({"tier": 1}));
    assert_eq!(ada["account_id"], json!(account));
    let alone = app
        .create(&json!({"email": "alone@engines.dev", "first_name": "Ada, Countess", "title": "VP Research", "source": "webinar", "consent": true, "properties": {"tier": 1}}))
        .await;
    assert_eq!(scored(&ada), scored(&alone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_upsert_updates_an_existing_lead() {
    let app = spawn_app().await;
    app.create(&lead_body("known@example.com")).await;
    let body = "email,source,title\nknown@example.com,webinar,CFO\n";
    let report = app.imported("?mode=upsert", CSV, body).await;
    assert_eq!(counts(&report), [1, 1, 0, 1, 0, 0, 0], "{report}");
    let known = app.lead_by_email("known@example.com").await;
    assert_eq!(known["title"], "CFO");
    assert_eq!(known["first_name"], "Ada");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_refuses_other_content_types_a_bad_mode_and_unknown_csv_columns() {
    let app = spawn_app().await;
    let line = ndjson(&[json!({"email": "x@example.com", "source": "webinar"})]);
    let resp = app.import("", "application/json", None, &line).await;
    assert_problem(resp, 415, "").await;
    let resp = app.import("?mode=replace", NDJSON, None, &line).await;
    assert_problem(resp, 422, "mode").await;
    let resp = app.import("?colour=red", NDJSON, None, &line).await;
    assert_problem(resp, 422, "colour").await;
    let resp = app
        .import(
            "",
            CSV,
            None,
            "email,colour,source,email\nx@example.com,red,webinar,y@example.com\n",
        )
        .await;
    let problem = assert_problem(resp, 422, "colour").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["colour", "email"], "{problem}");
    assert_eq!(app.leads_stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_commits_in_chunks() {
    let app = spawn_app().await;
    let lines: Vec<Value> = (0..2_500)
        .map(|i| json!({"email": format!("bulk{i}@example.com"), "source": "webinar"}))
        .collect();
    let report = app.imported("", NDJSON, &ndjson(&lines)).await;
    assert_eq!(counts(&report), [2_500, 2_500, 2_500, 0, 0, 0, 0]);
    assert_eq!(app.leads_stored().await, 2_500);
    let created =
        "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.created.v1'";
    assert_eq!(app.count(created).await, 2_500);
    // Ends with the relay idle: a runtime dropped while the relay publishes a backlog
    // waits for that publish to finish.
    assert_eq!(app.wait_outbox_drained(Duration::from_secs(60)).await, 0);
}
