//! Reports over a small fixed dataset, compared with figures worked out by hand.

use chrono::Utc;
use contracts::RawEvent;
use contracts::touchpoints::TouchpointRecorded;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::spawn_app;

fn row<'a>(rows: &'a Value, dimension: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["dimension"] == dimension && r["value"] == value)
        .unwrap_or_else(|| panic!("no row {dimension}={value} in {rows}"))
}

fn approx(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!((got - expected).abs() < 1e-6, "{got} != {expected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_quality_and_score_distribution_match_hand_computed_figures() {
    let app = spawn_app().await;
    let mk = |email: &str, source: &str, campaign: Option<&str>| json!({"email": email, "source": source, "campaign_id": campaign});
    let l1 = app.create(&mk("l1@x.example", "webinar", Some("c1"))).await;
    let l2 = app.create(&mk("l2@x.example", "webinar", Some("c1"))).await;
    app.create(&mk("l3@x.example", "webinar", None)).await;
    let l4 = app.create(&mk("l4@x.example", "sdr", None)).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    app.move_to(&id(&l1), "mql", None).await;
    app.move_to(&id(&l2), "sql", None).await;
    app.move_to(&id(&l4), "customer", None).await;

    let rows = app.get_json("/v1/reports/lead-quality").await;
    // webinar: 3 leads; l1 and l2 reached mql (l2 by skipping to sql) = 2/3; only l2 sql = 1/3.
    let w = row(&rows, "source", "webinar");
    assert_eq!(w["leads"], 3);
    approx(&w["mql_rate"], 2.0 / 3.0);
    approx(&w["sql_rate"], 1.0 / 3.0);
    approx(&w["customer_rate"], 0.0);
    approx(&w["mean_fit"], 0.0);
    // sdr: l4 went straight to customer, so it counts as mql, sql and customer.
    let s = row(&rows, "source", "sdr");
    assert_eq!(s["leads"], 1);
    approx(&s["mql_rate"], 1.0);
    approx(&s["sql_rate"], 1.0);
    approx(&s["customer_rate"], 1.0);
    // Moved within seconds of creation: the median lead-to-MQL time is ~0 days.
    assert!(s["median_days_to_mql"].as_f64().unwrap() < 0.01);
    // campaign c1: l1, l2 → mql 2/2, sql 1/2; no campaign: l3, l4 → mql 1/2, customer 1/2.
    let c1 = row(&rows, "campaign", "c1");
    assert_eq!(c1["leads"], 2);
    approx(&c1["mql_rate"], 1.0);
    approx(&c1["sql_rate"], 0.5);
    let none = row(&rows, "campaign", "(none)");
    assert_eq!(none["leads"], 2);
    approx(&none["mql_rate"], 0.5);
    approx(&none["customer_rate"], 0.5);
    assert!(row(&rows, "campaign", "(none)")["median_days_to_mql"].is_number());
    let c3 = row(&rows, "source", "webinar");
    assert!(c3["median_days_to_mql"].as_f64().unwrap() < 0.01);

    // A window that ends before the data has no rows.
    let empty = app
        .get_json("/v1/reports/lead-quality?to=2001-01-01T00:00:00Z")
        .await;
    assert_eq!(empty, json!([]));

    // Everyone has fit 0 and engagement 0 under the default model: all four in C3.
    let dist = app.get_json("/v1/reports/score-distribution").await;
    let grades = dist["grade_matrix"].as_array().unwrap();
    assert_eq!(grades.len(), 3);
    let c = grades.iter().find(|g| g["fit_band"] == "C").unwrap();
    assert_eq!(
        (
            c["engagement_1"].clone(),
            c["engagement_2"].clone(),
            c["engagement_3"].clone(),
        ),
        (json!(0), json!(0), json!(4))
    );

    // CSV and Parquet renderings of the same report.
    let resp = app.get("/v1/reports/lead-quality?format=csv").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("dimension,value,leads"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 4);
    let resp = app.get("/v1/reports/lead-quality?format=parquet").await;
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
    let resp = app.get("/v1/reports/lead-quality?format=xlsx").await;
    crate::helpers::assert_problem(resp, 422, "format").await;
    let resp = app.get("/v1/reports/score-distribution?format=csv").await;
    crate::helpers::assert_problem(resp, 422, "part").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abm_engagement_normalises_across_target_accounts() {
    let app = spawn_app().await;
    app.use_test_model().await;
    let mut leads = Vec::new();
    for (name, domain, target) in [
        ("Alpha", "alpha.example", true),
        ("Beta", "beta.example", true),
        ("Gamma", "gamma.example", false),
    ] {
        let a: Value = app
            .post_json("/v1/accounts", &json!({"name": name, "domains": [domain], "target": target, "abm_tier": "one_to_few"}))
            .await
            .json()
            .await
            .unwrap();
        let l = app
            .create(&json!({"email": format!("p@{domain}"), "source": "event"}))
            .await;
        leads.push((
            a["id"].as_str().unwrap().to_string(),
            l["id"].as_str().unwrap().to_string(),
        ));
    }
    // Alpha's lead had a meeting (25), Beta's a form fill (10), Gamma's nothing.
    for ((_, lead), kind) in leads.iter().zip(["meeting", "form_submit"]) {
        let t: TouchpointRecorded = serde_json::from_value(json!({
            "touchpoint_id": Uuid::new_v4(), "occurred_at": Utc::now(), "received_at": Utc::now(),
            "channel": "event", "type": kind, "lead_id": lead,
        }))
        .unwrap();
        app.publish(&RawEvent::new(&t, None)).await;
    }
    app.wait_count("SELECT count(*) AS n FROM engagement_touches", 2)
        .await;

    let rows = app.get_json("/v1/reports/abm-engagement").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "only target accounts: {rows:?}");
    assert_eq!(rows[0]["name"], "Alpha");
    approx(&rows[0]["engagement_score"], 100.0);
    assert_eq!(rows[0]["engaged_leads"], 1);
    assert_eq!(rows[1]["name"], "Beta");
    // 10 / 25 of the most engaged account, within decay over the seconds of the test.
    assert!((rows[1]["engagement_score"].as_f64().unwrap() - 40.0).abs() < 0.01);
    assert!((rows[1]["trend_30d"].as_f64().unwrap() - 10.0).abs() < 0.01);
    assert_eq!(rows[1]["buying_stage"], "aware");

    let e = app
        .get_json(&format!("/v1/accounts/{}/engagement", leads[1].0))
        .await;
    assert!(
        (e["engagement_score"].as_f64().unwrap() - 40.0).abs() < 0.01,
        "{e}"
    );
    assert_eq!(e["engaged_leads"], 1);
    let g = app
        .get_json(&format!("/v1/accounts/{}/engagement", leads[2].0))
        .await;
    assert_eq!(g["engagement_score"], 0.0);
    assert_eq!(g["buying_stage"], "aware");
}
