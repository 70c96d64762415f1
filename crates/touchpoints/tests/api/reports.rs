//! Campaign and affiliate reports compared with figures worked out by hand, including the
//! cookie window's edges; journey reports; formats.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::events::{deal_lost, deal_won};
use crate::helpers::{spawn_app, touch};

fn row<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value} in {rows}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_performance_matches_hand_computed_figures() {
    let app = spawn_app().await;
    let lead = Uuid::now_v7();
    let paid = |ty: &str, cost: &str, at: &str| {
        touch(
            at,
            "display",
            ty,
            json!({"campaign_id": "c1", "cost": cost, "currency": "EUR", "lead_id": lead}),
        )
    };
    app.ingest(&[
        paid("impression", "0.50", "2026-03-01T08:00:00Z"),
        paid("impression", "0.50", "2026-03-01T08:01:00Z"),
        paid("impression", "0.50", "2026-03-01T08:02:00Z"),
        paid("viewable_impression", "0.50", "2026-03-01T08:03:00Z"),
        paid("click", "1.00", "2026-03-01T09:00:00Z"),
        paid("click", "1.00", "2026-03-01T09:30:00Z"),
        // A later touch without a campaign does not take the conversion.
        touch(
            "2026-03-01T10:00:00Z",
            "direct",
            "visit",
            json!({"lead_id": lead}),
        ),
        touch(
            "2026-03-02T10:00:00Z",
            "paid_search",
            "visit",
            json!({"campaign_id": "c2"}),
        ),
        // Outside the report window.
        paid("click", "5.00", "2026-02-28T23:59:59Z"),
    ])
    .await;
    app.publish(&deal_won(
        Uuid::now_v7(),
        lead,
        "1000.00",
        "2026-03-01T20:00:00Z",
    ))
    .await;
    app.wait_inbox(1).await;

    let rows = app
        .get_json(
            "/v1/reports/campaign-performance?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z",
        )
        .await;
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let c1 = row(&rows, "campaign_id", "c1");
    // 4 impressions (1 viewable), 2 clicks, cost 4 × 0.50 + 2 × 1.00 = 4.00.
    assert_eq!(c1["channel"], "display");
    assert_eq!(c1["day"], "2026-03-01");
    assert_eq!(c1["impressions"], 4);
    assert_eq!(c1["viewable_impressions"], 1);
    assert_eq!(c1["viewability_pct"], 25.0);
    assert_eq!(c1["clicks"], 2);
    assert_eq!(c1["ctr"], 0.5);
    assert_eq!(c1["cost"], "4");
    assert_eq!(c1["cpm"], "1000"); // 4.00 / 4 × 1000
    assert_eq!(c1["vcpm"], "4000"); // 4.00 / 1 × 1000
    assert_eq!(c1["cpc"], "2");
    assert_eq!(c1["conversions"], 1);
    assert_eq!(c1["conversion_value"], "1000");
    assert_eq!(c1["cpa"], "4");
    let c2 = row(&rows, "campaign_id", "c2");
    assert_eq!(c2["impressions"], 0);
    assert_eq!(c2["ctr"], Value::Null);
    assert_eq!(c2["cpm"], Value::Null);
    assert_eq!(c2["cpa"], Value::Null);
    assert_eq!(c2["cost"], "0");

    let csv = app
        .client
        .get(app.url("/v1/reports/campaign-performance?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("campaign_id,channel,day,impressions,viewable_impressions,viewability_pct,clicks,ctr,cost,cpm,vcpm,cpc,conversions,conversion_value,cpa\n"), "{text}");
    let parquet = app
        .client
        .get(app.url("/v1/reports/campaign-performance?format=parquet"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(parquet.starts_with(b"PAR1"));
    let bad = app
        .client
        .get(app.url("/v1/reports/campaign-performance?format=xlsx&from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affiliate_commission_respects_cookie_windows_and_clawbacks() {
    let app = spawn_app().await;
    app.create_affiliate(
        "a1",
        &json!({"name": "Deals Blog", "model": "flat_cpa", "amount": "100", "currency": "EUR"}),
    )
    .await;
    let terms = json!({"model": "revenue_share", "revenue_share_percent": "10", "currency": "EUR", "cookie_window_days": 7});
    app.create_affiliate("a2", &terms).await;
    let again = app
        .put_if("/v1/affiliates/a2", ("if-match", "\"1\""), &terms)
        .await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.headers()["etag"], "\"2\"");
    let a2 = app.get_json("/v1/affiliates/a2").await;
    assert_eq!(a2["cookie_window_days"], 7);
    assert_eq!(a2["revenue_share_percent"], "10");

    let leads: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    let aff = |a: &str, lead: Uuid, at: &str| {
        touch(
            at,
            "affiliate",
            "click",
            json!({"affiliate_id": a, "lead_id": lead}),
        )
    };
    app.ingest(&[
        aff("a1", leads[0], "2026-01-01T00:00:00Z"),
        aff("a1", leads[1], "2026-01-01T00:00:00Z"),
        aff("a2", leads[2], "2026-02-01T00:00:00Z"),
        aff("a2", leads[3], "2026-02-01T00:00:00Z"),
        aff("zz", leads[4], "2026-02-01T00:00:00Z"),
    ])
    .await;
    let deals: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    // Exactly 30 days after the a1 touch: counted.
    app.publish(&deal_won(deals[0], leads[0], "900", "2026-01-31T00:00:00Z"))
        .await;
    // One second past the window: not counted.
    app.publish(&deal_won(deals[1], leads[1], "900", "2026-01-31T00:00:01Z"))
        .await;
    // a2, within 7 days, later lost: counted, then clawed back.
    app.publish(&deal_won(
        deals[2],
        leads[2],
        "2000",
        "2026-02-05T00:00:00Z",
    ))
    .await;
    app.publish(&deal_lost(deals[2], leads[2], "2026-02-20T00:00:00Z"))
        .await;
    // a2, exactly 7 days: counted.
    app.publish(&deal_won(deals[3], leads[3], "500", "2026-02-08T00:00:00Z"))
        .await;
    app.wait_inbox(5).await;

    let rows = app.get_json("/v1/reports/affiliates").await;
    assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");
    let a1 = row(&rows, "affiliate_id", "a1");
    assert_eq!(a1["name"], "Deals Blog");
    assert_eq!(a1["leads"], 2);
    assert_eq!(a1["conversions"], 1);
    assert_eq!(a1["conversion_value"], "900");
    assert_eq!(a1["commission"], "100");
    assert_eq!(a1["clawback"], "0");
    assert_eq!(a1["net_commission"], "100");
    let a2 = row(&rows, "affiliate_id", "a2");
    assert_eq!(a2["leads"], 2);
    assert_eq!(a2["conversions"], 2);
    assert_eq!(a2["conversion_value"], "2500");
    // 10% of 2500 = 250; the lost 2000 claws back 200.
    assert_eq!(a2["commission"], "250");
    assert_eq!(a2["clawed_back_conversions"], 1);
    assert_eq!(a2["clawback"], "200");
    assert_eq!(a2["net_commission"], "50");
    // An affiliate without terms: figures, no commission.
    let zz = row(&rows, "affiliate_id", "zz");
    assert_eq!(zz["leads"], 1);
    assert_eq!(zz["commission"], Value::Null);

    // Journey reports over the same data: four won (one without touches in window is
    // still a journey of length ≥ 1 here) and one lost.
    let lengths = app.get_json("/v1/reports/journey-lengths").await;
    let won = row(&lengths, "kind", "won");
    assert_eq!(won["touches"], 1);
    assert_eq!(won["journeys"], 4);
    let paths = app.get_json("/v1/reports/top-paths?limit=5").await;
    let first = &paths[0];
    assert_eq!(first["path"], "affiliate");
    assert_eq!(first["conversions"], 4);
    assert_eq!(first["non_conversions"], 1);
    assert_eq!(first["conversion_rate"], 0.8);
}
