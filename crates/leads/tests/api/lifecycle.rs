//! Lifecycle moves over HTTP, optimistic updates of leads, and merging duplicates.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, lead_body, spawn_app};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_moves_follow_the_rules_and_are_recorded_and_published() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("stages@example.com")).await;
    let lead_id = id(&lead);
    assert_eq!(lead["lifecycle_stage"], "lead");

    // Forward, skipping mql.
    let resp = app.move_to(&lead_id, "sql", None).await;
    assert_eq!(resp.status().as_u16(), 200);
    // Backward other than a recycle to `lead` is a conflict.
    let resp = app.move_to(&lead_id, "mql", None).await;
    let body = assert_problem_status(resp, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("from sql to mql"),
        "{body}"
    );
    // A recycle needs a reason.
    let resp = app.move_to(&lead_id, "lead", None).await;
    assert_problem(resp, 422, "reason").await;
    let resp = app
        .move_to(&lead_id, "lead", Some("no budget this year"))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let resp = app.move_to(&lead_id, "disqualified", None).await;
    assert_eq!(resp.status().as_u16(), 200);
    let resp = app.move_to(&lead_id, "customer", None).await;
    assert_problem_status(resp, 409).await;
    let resp = app.move_to(&lead_id, "champion", None).await;
    assert_problem(resp, 422, "to_stage").await;

    let history = app
        .get_json(&format!("/v1/leads/{lead_id}/lifecycle"))
        .await;
    let moves: Vec<(Value, Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from_stage"].clone(),
                h["to_stage"].clone(),
                h["cause"].clone(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("lead"), json!("created")),
            (json!("lead"), json!("sql"), json!("manual")),
            (json!("sql"), json!("lead"), json!("manual")),
            (json!("lead"), json!("disqualified"), json!("manual")),
        ]
    );
    assert_eq!(history["items"][2]["reason"], "no budget this year");
    // One event per change, in the same transaction as the change.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.lifecycle_changed.v1'")
            .await,
        3
    );
    let lead = app.get_json(&format!("/v1/leads/{lead_id}")).await;
    assert_eq!(lead["lifecycle_stage"], "disqualified");
}

async fn assert_problem_status(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_needs_the_current_etag_and_changes_only_what_it_names() {
    let app = spawn_app().await;
    let lead = app.create(&lead_body("patch@example.com")).await;
    app.create(&lead_body("taken@example.com")).await;
    let path = format!("/v1/leads/{}", id(&lead));
    let resp = app.get(&path).await;
    let tag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(tag, "\"1\"");

    let resp = app.patch(&path, None, &json!({"title": "CMO"})).await;
    assert_problem(resp, 428, "header:if-match").await;
    let resp = app
        .patch(&path, Some("\"9\""), &json!({"title": "CMO"}))
        .await;
    assert_eq!(resp.status().as_u16(), 412);
    let resp = app
        .patch(&path, Some(&tag), &json!({"lifecycle_stage": "sql"}))
        .await;
    assert_problem(resp, 422, "lifecycle_stage").await;
    let resp = app
        .patch(&path, Some(&tag), &json!({"source": "carrier_pigeon"}))
        .await;
    assert_problem(resp, 422, "source").await;
    let resp = app
        .patch(&path, Some(&tag), &json!({"email": "Taken@example.com"}))
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let resp = app
        .patch(
            &path,
            Some(&tag),
            &json!({"title": "CMO", "company": null, "properties": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["title"], "CMO");
    assert_eq!(updated["company"], Value::Null);
    assert_eq!(updated["first_name"], "Ada");
    assert_eq!(updated["properties"], json!({"tier": "gold"}));
    // The old ETag is now stale.
    let resp = app.patch(&path, Some(&tag), &json!({"title": "CEO"})).await;
    assert_eq!(resp.status().as_u16(), 412);
    let changed: Value = serde_json::from_slice(
        &app.service
            .db
            .run(|conn| {
                use diesel::prelude::*;
                platform::schema::outbox::table
                    .filter(
                        platform::schema::outbox::routing_key
                            .eq("touchstone.leads.lead.updated.v1"),
                    )
                    .select(platform::schema::outbox::body)
                    .first::<Vec<u8>>(conn)
                    .map_err(platform::DbError::from)
            })
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        changed["data"]["changed"],
        json!(["title", "company", "properties"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_moves_history_and_redirects_the_old_id() {
    let app = spawn_app().await;
    let survivor = app.create(&lead_body("ada@example.com")).await;
    let dup = app
        .create(
            &json!({"email": "ada.lovelace@example.com", "source": "sdr", "phone": "+44 20 1234",
                        "anonymous_id": "anon-42"}),
        )
        .await;
    let (s, d) = (id(&survivor), id(&dup));
    assert_eq!(app.move_to(&d, "mql", None).await.status().as_u16(), 200);

    let resp = app
        .post_json(&format!("/v1/leads/{s}/merge"), &json!({"from_id": s}))
        .await;
    assert_problem(resp, 422, "from_id").await;
    let resp = app
        .post_json(&format!("/v1/leads/{s}/merge"), &json!({"from_id": d}))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let merged: Value = resp.json().await.unwrap();
    assert_eq!(merged["email"], "ada@example.com");
    assert_eq!(
        merged["phone"], "+44 20 1234",
        "empty fields are filled from the duplicate"
    );
    assert_eq!(merged["first_name"], "Ada");

    // The old id redirects permanently to the survivor.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(app.url(&format!("/v1/leads/{d}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(
        resp.headers()["location"],
        format!("/v1/leads/{s}").as_str()
    );
    // The duplicate's history now belongs to the survivor: two creations and its mql move.
    let history = app.get_json(&format!("/v1/leads/{s}/lifecycle")).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 3);
    // Its email now names the survivor.
    let resp = app.post_lead(&lead_body("ada.lovelace@example.com")).await;
    assert_eq!(resp.status().as_u16(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["existing_id"], s.as_str());
    // Merged leads leave the list; merging again is refused.
    let list = app.get_json("/v1/leads").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let resp = app
        .post_json(&format!("/v1/leads/{s}/merge"), &json!({"from_id": d}))
        .await;
    assert_problem(resp, 422, "from_id").await;
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.lead.merged.v1'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_by_stage_source_and_text() {
    let app = spawn_app().await;
    let a = app
        .create(&json!({"email": "grace@navy.example", "first_name": "Grace", "source": "webinar"}))
        .await;
    app.create(&json!({"email": "alan@bletchley.example", "first_name": "Alan", "source": "sdr"}))
        .await;
    app.create(&json!({"email": "ada@engines.example", "first_name": "Ada", "source": "webinar", "campaign_id": "c1"})).await;
    app.move_to(&id(&a), "mql", None).await;
    let emails = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["email"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        emails(app.get_json("/v1/leads?source=webinar").await),
        ["grace@navy.example", "ada@engines.example"]
    );
    assert_eq!(
        emails(app.get_json("/v1/leads?stage=mql").await),
        ["grace@navy.example"]
    );
    assert_eq!(
        emails(app.get_json("/v1/leads?q=BLETCH").await),
        ["alan@bletchley.example"]
    );
    assert_eq!(
        emails(
            app.get_json("/v1/leads?q=ada&source=webinar&campaign_id=c1")
                .await
        ),
        ["ada@engines.example"]
    );
    assert!(
        emails(
            app.get_json("/v1/leads?created_to=2000-01-01T00:00:00Z")
                .await
        )
        .is_empty()
    );
    let resp = app.get("/v1/leads?stage=hot&min_score=x").await;
    let body = assert_problem(resp, 422, "stage").await;
    assert!(body.to_string().contains("min_score"));
}
