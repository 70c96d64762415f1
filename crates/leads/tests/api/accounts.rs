//! Accounts: creation, domain matching of leads (never free mail), domain conflicts,
//! optimistic updates and the target list.

use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

fn account(name: &str, domain: &str, tier: &str, target: bool) -> Value {
    json!({"name": name, "domains": [domain], "abm_tier": tier, "target": target,
           "industry": "Software", "employees": 800, "region": "EMEA",
           "annual_revenue": {"amount": "12500000.50", "currency": "EUR"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_matched_to_accounts_by_domain_but_never_by_free_mail() {
    let app = spawn_app().await;
    let resp = app
        .post_json(
            "/v1/accounts",
            &account("Acme", "https://www.Acme.example", "one_to_one", true),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    let acme: Value = resp.json().await.unwrap();
    assert_eq!(acme["domains"], json!(["acme.example"]));
    assert_eq!(acme["annual_revenue"]["amount"], "12500000.50");
    assert_eq!(acme["industry"], "software");

    let matched = app
        .create(&json!({"email": "Ann@ACME.example", "source": "webinar"}))
        .await;
    assert_eq!(matched["account_id"], acme["id"]);
    let free = app
        .create(&json!({"email": "ann.acme@gmail.com", "source": "webinar"}))
        .await;
    assert_eq!(free["account_id"], Value::Null);
    let other = app
        .create(&json!({"email": "bob@elsewhere.example", "source": "sdr"}))
        .await;
    assert_eq!(other["account_id"], Value::Null);
    // An explicit account wins over the domain, and must exist.
    let explicit = app
        .create(
            &json!({"email": "carl@elsewhere.example", "source": "sdr", "account_id": acme["id"]}),
        )
        .await;
    assert_eq!(explicit["account_id"], acme["id"]);
    let resp = app
        .post_lead(
            &json!({"email": "dan@x.example", "source": "sdr", "account_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_problem(resp, 422, "account_id").await;
    // Free-mail domains cannot be claimed, and a domain belongs to one account.
    let resp = app
        .post_json(
            "/v1/accounts",
            &account("Gmail fans", "gmail.com", "none", false),
        )
        .await;
    assert_problem(resp, 422, "domains[0]").await;
    let resp = app
        .post_json(
            "/v1/accounts",
            &account("Acme again", "acme.example", "none", false),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["existing_id"], acme["id"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_update_with_if_match_and_filter_by_tier_and_target() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (name, domain, tier, target) in [
        ("A", "a.example", "one_to_one", true),
        ("B", "b.example", "one_to_few", true),
        ("C", "c.example", "one_to_few", false),
        ("D", "d.example", "none", false),
    ] {
        let r: Value = app
            .post_json("/v1/accounts", &account(name, domain, tier, target))
            .await
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&app.get_json("/v1/accounts?tier=one_to_few").await),
        ["B", "C"]
    );
    assert_eq!(
        names(&app.get_json("/v1/accounts?target=true").await),
        ["A", "B"]
    );
    assert_eq!(
        names(&app.get_json("/v1/accounts/targets").await),
        ["A", "B"]
    );
    assert_eq!(
        names(&app.get_json("/v1/accounts/targets?tier=one_to_one").await),
        ["A"]
    );
    let page = app.get_json("/v1/accounts?limit=3").await;
    assert_eq!(names(&page).len(), 3);
    let next = app
        .get_json(&format!(
            "/v1/accounts?limit=3&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(names(&next), ["D"]);
    let resp = app.get("/v1/accounts?tier=gold").await;
    assert_problem(resp, 422, "tier").await;

    let path = format!("/v1/accounts/{}", ids[2]);
    let resp = app.patch(&path, None, &json!({"target": true})).await;
    assert_problem(resp, 428, "header:if-match").await;
    let resp = app
        .patch(&path, Some("\"7\""), &json!({"target": true}))
        .await;
    assert_eq!(resp.status().as_u16(), 412);
    let resp = app
        .patch(
            &path,
            Some("\"1\""),
            &json!({"target": true, "owner": "sam"}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["target"], true);
    assert_eq!(updated["owner"], "sam");
    assert_eq!(updated["domains"], json!(["c.example"]));
    let resp = app
        .patch(&path, Some("\"2\""), &json!({"colour": "red"}))
        .await;
    assert_problem(resp, 422, "colour").await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE routing_key = 'touchstone.leads.account.updated.v1'")
            .await,
        1
    );
}
