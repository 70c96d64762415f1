//! Funnel definitions: seeds, validation, versions.

use serde_json::{Value, json};

use crate::helpers::*;

/// Replaces the trial funnel (at the ETag `etag`) with the name "trial 2" and `window` on
/// its second stage.
async fn rename_trial(app: &TestApp, id: &str, etag: &str, window: &str) -> Value {
    let body = json!({"name": "trial 2", "stages": [
        {"name": "signup"}, {"name": "activated", "window": window}, {"name": "paid"}]});
    let resp = app
        .put_if_match(&format!("/v1/funnels/{id}"), etag, &body)
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let revision = resp.headers()["etag"].to_str().unwrap().to_string();
    let f: Value = resp.json().await.unwrap();
    assert_eq!(revision, format!("\"{}\"", f["revision"]));
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_funnels_and_versions() {
    let app = spawn_app().await;
    let list = app.get_json("/v1/funnels").await;
    let names = strings(&list["items"], "name");
    assert!(names.contains(&"B2B sales") && names.contains(&"Marketing"));
    let b2b = app.get_json(&format!("/v1/funnels/{B2B}")).await;
    assert_eq!(
        strings(&b2b["stages"], "name"),
        ["lead", "mql", "sql", "opportunity", "won"]
    );
    assert_eq!(b2b["won_stage"], "won");
    let marketing = app.get_json(&format!("/v1/funnels/{MARKETING}")).await;
    assert_eq!(marketing["stages"].as_array().unwrap().len(), 6);
    assert_eq!(marketing["won_stage"], "purchase");

    let resp = app
        .post_json(
            "/v1/funnels",
            &json!({"name": "trial", "stages": [
                {"name": "signup"}, {"name": "activated", "window": "7d"}, {"name": "paid"}]}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let f: Value = resp.json().await.unwrap();
    let id = f["id"].as_str().unwrap().to_string();
    assert_eq!(f["version"], 1);
    assert_eq!(f["revision"], 1);
    assert_eq!(f["stages"][1]["window"], "7d");

    // A new name alone keeps the version; new stages make version 2. Each is a revision.
    let renamed = rename_trial(&app, &id, "\"1\"", "7d").await;
    assert_eq!(
        (renamed["version"].clone(), renamed["revision"].clone()),
        (json!(1), json!(2))
    );
    let restaged = rename_trial(&app, &id, "\"2\"", "14d").await;
    assert_eq!(
        (restaged["version"].clone(), restaged["revision"].clone()),
        (json!(2), json!(3))
    );
    let v1 = app.get_json(&format!("/v1/funnels/{id}?version=1")).await;
    assert_eq!(v1["stages"][1]["window"], "7d");
    let v2 = app.get_json(&format!("/v1/funnels/{id}")).await;
    assert_eq!(v2["stages"][1]["window"], "14d");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_definitions_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let before = app.count("SELECT count(*) AS n FROM funnels").await;
    for (body, field) in [
        (json!({"stages": [{"name": "a"}, {"name": "b"}]}), "name"),
        (json!({"name": "x", "stages": [{"name": "a"}]}), "stages"),
        (
            json!({"name": "x", "stages": [{"name": "a", "optional": true}, {"name": "b"}]}),
            "stages[0].optional",
        ),
        (
            json!({"name": "x", "stages": [{"name": "a"}, {"name": "a"}]}),
            "stages[1].name",
        ),
        (
            json!({"name": "x", "stages": [{"name": "a"}, {"name": "lost"}]}),
            "stages[1].name",
        ),
        (
            json!({"name": "x", "stages": [{"name": "a"}, {"name": "b", "window": "soon"}]}),
            "stages[1].window",
        ),
        (
            json!({"name": "x", "stages": [{"name": "a"}, {"name": "b", "lifecycle": "vip"}]}),
            "stages[1].lifecycle",
        ),
    ] {
        let resp = app.post_json("/v1/funnels", &body).await;
        assert_problem(resp, 422, field).await;
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM funnels").await, before);
    let missing = app
        .get(&format!("/v1/funnels/{}", uuid::Uuid::now_v7()))
        .await;
    assert_problem(missing, 404, "").await;
}
