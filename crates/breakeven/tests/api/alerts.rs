//! Live tracking from real events in the test's namespace: alerts fire once, whatever the
//! duplicates and the order.

use std::time::Duration;

use chrono::Utc;
use contracts::RawEvent;
use contracts::funnel::{DealWon, ProductLine};
use contracts::touchpoints::{AttributionCredit, ConversionAttributed, TouchpointRecorded};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use platform::bus::Tap;

use crate::helpers::{TestApp, campaign_body, spawn_app};

fn usd() -> contracts::Currency {
    contracts::Currency::parse("USD").unwrap()
}

pub fn cost(campaign: &str, amount: i64) -> RawEvent {
    let now = Utc::now();
    RawEvent::new(
        &TouchpointRecorded {
            touchpoint_id: Uuid::now_v7(),
            occurred_at: now,
            received_at: now,
            channel: "paid_search".into(),
            touch_type: "click".into(),
            campaign_id: Some(campaign.into()),
            creative_id: None,
            content_id: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            anonymous_id: None,
            lead_id: None,
            email: None,
            account_id: None,
            affiliate_id: None,
            cost: Some(Decimal::from(amount)),
            currency: Some(usd()),
            properties: Value::Null,
        },
        None,
    )
}

fn won(campaign: Option<&str>, amount: i64, products: Vec<ProductLine>) -> RawEvent {
    RawEvent::new(
        &DealWon {
            deal_id: Uuid::now_v7(),
            funnel_id: Uuid::now_v7(),
            lead_id: None,
            account_id: None,
            campaign_id: campaign.map(str::to_string),
            amount: Decimal::from(amount),
            currency: usd(),
            won_at: Utc::now(),
            reason: None,
            products,
        },
        None,
    )
}

/// Markers are costs on campaigns of their own, named with this prefix.
const MARKER: &str = "marker-";

/// Waits until the service has handled every message published so far, then checks that
/// `events` of them (markers aside) were new. Returns the marker's campaign id.
///
/// A duplicate is acknowledged without an inbox row, so there is nothing of its own to wait
/// for. A marker follows instead: a cost on a campaign of its own. The queue is delivered in
/// order and applied one group at a time, a failed group one message at a time, so once the
/// marker's spend shows, every earlier message has been applied or skipped, unless one went
/// to a retry queue, from which it could come back after the marker; so none may have.
async fn settle(app: &TestApp, events: i64) -> String {
    let marker = format!("{MARKER}{}", Uuid::now_v7());
    app.publish(&cost(&marker, 1)).await;
    app.wait_count(
        &format!("SELECT count(*) AS n FROM campaign_spend WHERE campaign_id = '{marker}'"),
        1,
    )
    .await;
    assert_eq!(
        retried(app).await,
        0,
        "a message was retried and may land after the marker"
    );
    let inbox = app.count("SELECT count(*) AS n FROM inbox").await;
    let markers = app
        .count(&format!(
            "SELECT count(*) AS n FROM campaign_spend WHERE campaign_id LIKE '{MARKER}%'"
        ))
        .await;
    assert_eq!(inbox - markers, events);
    marker
}

/// Makes the service publish an alert after everything it has published so far, and
/// returns the routing keys of what the tap saw before it. The marker is the last
/// `settle()` marker's campaign, defined now with a budget its spend of 1 puts at risk:
/// its `campaign.at_risk` is enqueued after every earlier alert, and the outbox relay
/// publishes in enqueue order, so whatever the service published before it is on the tap
/// before the marker.
async fn published_before_marker(
    app: &TestApp,
    tap: &mut Tap,
    marker: &str,
    product: &str,
) -> Vec<String> {
    let mut body = campaign_body(marker, product);
    body["budget"] = json!("1");
    app.create("/v1/campaigns", &body).await;
    let mut seen = Vec::new();
    loop {
        let d = tap
            .next(Duration::from_secs(30))
            .await
            .expect("the marker's alert is published");
        let event: Value = serde_json::from_slice(&d.data).unwrap();
        if event["data"]["campaign_id"] == marker {
            assert_eq!(event["type"], "touchstone.breakeven.campaign.at_risk.v1");
            return seen;
        }
        seen.push(d.routing_key.to_string());
    }
}

/// Messages the consumer has sent to a retry queue, from `/metrics`.
async fn retried(app: &TestApp) -> i64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("events_retried_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_risk_then_breakeven_each_fire_once_despite_duplicates() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.campaign("spring", &product).await;
    let mut tap = app.tap("touchstone.breakeven.#").await;

    // 600 of 1,000 spent (≥ 50 %) with no revenue: at risk. The batch is sent twice.
    let batch = [cost("spring", 300), cost("spring", 300)];
    app.publish_batch(&batch).await;
    app.publish_batch(&batch).await;
    settle(&app, 2).await;
    let b = app.get_json("/v1/campaigns/spring/breakeven").await;
    assert_eq!(b["spend"], "600");
    assert_eq!(b["at_risk"], true);
    assert_eq!(app.outbox_count("campaign.at_risk").await, 1);

    // A deal won for 2,000: contribution 800 ≥ 600, break-even. Sent twice too.
    let deal = won(Some("spring"), 2000, vec![]);
    app.publish(&deal).await;
    app.publish(&deal).await;
    settle(&app, 3).await;
    let b = app.get_json("/v1/campaigns/spring/breakeven").await;
    assert_eq!(b["attributed_revenue"], "2000");
    assert_eq!(b["contribution"], "800.00");
    assert_eq!(b["roas"], "3.333333");
    assert_eq!(b["breakeven_roas"], "2.5");
    assert_eq!(b["breakeven_reached"], true);
    assert_eq!(b["at_risk"], false);
    // More spend and revenue afterwards change nothing.
    app.publish(&cost("spring", 10)).await;
    app.publish(&won(Some("spring"), 100, vec![])).await;
    let marker = settle(&app, 5).await;
    assert_eq!(app.outbox_count("campaign.breakeven_reached").await, 1);
    assert_eq!(app.outbox_count("campaign.at_risk").await, 1);

    // Each alert was published once, in order, and nothing else before the marker's.
    assert_eq!(
        published_before_marker(&app, &mut tap, &marker, &product).await,
        [
            "touchstone.breakeven.campaign.at_risk.v1",
            "touchstone.breakeven.campaign.breakeven_reached.v1"
        ]
    );
}

/// Costs and a deal arrive before the campaign exists: their totals are kept under the
/// campaign id, and defining the campaign fires the alert it now calls for, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_before_the_campaign_count_when_it_is_defined() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    let deal = won(Some("early"), 2000, vec![]);
    app.publish(&deal).await;
    app.publish_batch(&[cost("early", 250), cost("early", 350)])
        .await;
    settle(&app, 3).await;
    let b = app.get_json("/v1/campaigns/early/breakeven").await;
    assert_eq!(
        (b["defined"].as_bool(), b["spend"].as_str()),
        (Some(false), Some("600"))
    );
    assert_eq!(app.outbox_count("campaign.breakeven_reached").await, 0);

    app.campaign("early", &product).await;
    assert_eq!(app.outbox_count("campaign.breakeven_reached").await, 1);
    assert_eq!(app.outbox_count("campaign.at_risk").await, 0);
    // Updating it, and the same deal again, fire nothing more.
    let resp = app
        .put_if(
            "/v1/campaigns/early",
            &campaign_body("early", &product),
            Some("\"1\""),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    app.publish(&deal).await;
    settle(&app, 3).await;
    assert_eq!(app.outbox_count("campaign.breakeven_reached").await, 1);
}

/// A `conversion.attributed` of deal `deal_id` (worth `value` USD) by the linear model,
/// over `touch_count` touches, with `credits`.
fn linear_attribution(
    deal_id: Uuid,
    value: i64,
    touch_count: u32,
    credits: Vec<AttributionCredit>,
) -> RawEvent {
    RawEvent::new(
        &ConversionAttributed {
            conversion_id: Uuid::now_v7(),
            deal_id,
            lead_id: Uuid::now_v7(),
            model: "linear".into(),
            order: None,
            value: Decimal::from(value),
            currency: usd(),
            converted_at: Utc::now(),
            touch_count,
            credits,
        },
        None,
    )
}

/// An attribution replaces the won deal's own campaign revenue: the deal was won for
/// "a", but the attribution credits 1,500 to "b" and 500 to "a".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribution_moves_revenue_between_campaigns() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.campaign("a", &product).await;
    app.campaign("b", &product).await;
    app.publish_batch(&[cost("a", 100), cost("b", 100)]).await;
    let deal = won(Some("a"), 2000, vec![]);
    let deal_id = deal.data["deal_id"].as_str().unwrap().parse().unwrap();
    let credit = |campaign: &str, value: i64| AttributionCredit {
        channel: "paid_search".into(),
        campaign_id: Some(campaign.into()),
        conversions: Decimal::new(5, 1),
        value: Decimal::from(value),
    };
    let attributed =
        linear_attribution(deal_id, 2000, 2, vec![credit("a", 500), credit("b", 1500)]);
    // Attribution first, the deal after: the order does not matter.
    app.publish(&attributed).await;
    app.publish(&deal).await;
    settle(&app, 4).await;
    let a = app.get_json("/v1/campaigns/a/breakeven").await;
    let b = app.get_json("/v1/campaigns/b/breakeven").await;
    assert_eq!(a["attributed_revenue"], "500");
    assert_eq!(b["attributed_revenue"], "1500");
    // Both reached (contribution 200 and 600 against spend 100): once each.
    assert_eq!(app.outbox_count("campaign.breakeven_reached").await, 2);
}

/// An attribution over no touches credits nothing, so the won deal keeps counting for its
/// own campaign, whichever arrives first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribution_of_no_touches_leaves_the_deal_on_its_own_campaign() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.campaign("a", &product).await;
    app.campaign("b", &product).await;
    app.publish_batch(&[cost("a", 100), cost("b", 100)]).await;
    let empty = |deal_id: Uuid| linear_attribution(deal_id, 2000, 0, vec![]);
    // "a": the deal first, then its empty attribution; "b": the other way round.
    let deal_a = won(Some("a"), 2000, vec![]);
    let id_a = deal_a.data["deal_id"].as_str().unwrap().parse().unwrap();
    app.publish(&deal_a).await;
    app.publish(&empty(id_a)).await;
    let deal_b = won(Some("b"), 1000, vec![]);
    let id_b = deal_b.data["deal_id"].as_str().unwrap().parse().unwrap();
    app.publish(&empty(id_b)).await;
    app.publish(&deal_b).await;
    settle(&app, 6).await;
    let a = app.get_json("/v1/campaigns/a/breakeven").await;
    let b = app.get_json("/v1/campaigns/b/breakeven").await;
    assert_eq!(a["attributed_revenue"], "2000");
    assert_eq!(b["attributed_revenue"], "1000");
}

/// The company month: fixed costs 500 a month; a deal of 20 birdbaths (contribution
/// 20 × 40 = 800) covers them: `breakeven.reached` once for the month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_breakeven_fires_once_per_period() {
    let app = spawn_app().await;
    let product = app.birdbath().await;
    app.create(
        "/v1/fixed-costs",
        &json!({"name": "rent", "amount": "1500", "period": "quarter", "currency": "USD"}),
    )
    .await;
    let line = ProductLine {
        product_id: product.clone(),
        units: 10,
        amount: None,
    };
    app.publish(&won(None, 1000, vec![line.clone()])).await;
    settle(&app, 1).await;
    assert_eq!(app.outbox_count("breakeven.reached").await, 0, "400 < 500");
    app.publish(&won(None, 1000, vec![line.clone()])).await;
    app.publish(&won(None, 1000, vec![line])).await;
    settle(&app, 3).await;
    assert_eq!(app.outbox_count("breakeven.reached").await, 1);
}
