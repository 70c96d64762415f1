//! Attribution: stored journeys checked by hand, ad-hoc JSON and CSV paths, malformed input,
//! `conversion.attributed` once per won deal, and the model comparison report and chart.

use std::time::Duration;

use attribution::PathStat;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::events::{deal_lost, deal_won};
use crate::helpers::{TestApp, fields, lead_touch, spawn_app, spawn_with, test_config};
use platform::testing::assert_problem;

const ATTRIBUTED: &str = "touchstone.touchpoints.conversion.attributed.v1";

/// The currency of every deal the tests publish.
const EUR: Option<&str> = Some("EUR");

/// Three leads:
/// - A: email (campaign c1, form_submit) then paid_search (c2), won for 100;
/// - B: paid_search (c2), won for 50;
/// - C: display (no campaign) then paid_search (c2), lost.
///
/// Paths: `email > paid_search` (1 conversion, 100), `paid_search` (1, 50),
/// `display > paid_search` (1 null). Returns the leads and deals.
async fn three_journeys(app: &TestApp) -> [(Uuid, Uuid); 3] {
    let leads = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let deals = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let [a, b, c] = leads;
    app.ingest(&[
        lead_touch(
            a,
            "2026-05-01T00:00:00Z",
            "email",
            "form_submit",
            Some("c1"),
        ),
        lead_touch(
            a,
            "2026-05-02T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
        lead_touch(
            b,
            "2026-05-01T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
        lead_touch(c, "2026-05-01T00:00:00Z", "display", "impression", None),
        lead_touch(
            c,
            "2026-05-02T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
    ])
    .await;
    // The lost deal and B's win first, so that A's win is attributed on all three.
    app.publish(&deal_lost(deals[2], c, "2026-05-08T00:00:00Z"))
        .await;
    app.publish(&deal_won(deals[1], b, "50", "2026-05-09T00:00:00Z"))
        .await;
    app.wait_inbox(2).await;
    app.publish(&deal_won(deals[0], a, "100", "2026-05-10T00:00:00Z"))
        .await;
    app.wait_inbox(3).await;
    [(a, deals[0]), (b, deals[1]), (c, deals[2])]
}

/// Amounts as (currency, amount).
type Amounts = Vec<(Option<String>, Decimal)>;

/// A model's credits: channel, conversions, and the values.
fn credits(report: &Value, model: &str) -> Vec<(String, f64, Amounts)> {
    let result = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == model)
        .unwrap_or_else(|| panic!("{model} in {report}"));
    result["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["channel"].as_str().unwrap().to_string(),
                c["conversions"].as_f64().unwrap(),
                amounts(&c["values"]),
            )
        })
        .collect()
}

/// A list of `{currency, amount}` as (currency, amount).
fn amounts(values: &Value) -> Amounts {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["currency"].as_str().map(str::to_string),
                decimal(&v["amount"]),
            )
        })
        .collect()
}

/// Checks a model's credits: channel, conversions and value, all values in `currency`.
fn assert_credits(
    report: &Value,
    model: &str,
    currency: Option<&str>,
    expected: &[(&str, f64, &str)],
) {
    let got = credits(report, model);
    assert_eq!(got.len(), expected.len(), "{model}: {got:?}");
    for ((channel, conv, values), (e_channel, e_conv, e_value)) in got.iter().zip(expected) {
        assert_eq!(channel, e_channel, "{model}");
        assert!((conv - e_conv).abs() < 1e-9, "{model} {channel}: {conv}");
        let want = vec![(currency.map(str::to_string), e_value.parse().unwrap())];
        assert_eq!(values, &want, "{model} {channel}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_journeys_are_attributed_as_worked_by_hand() {
    let app = spawn_app().await;
    three_journeys(&app).await;

    let r = app
        .get_json("/v1/attribution?models=linear,first_touch,last_touch,markov")
        .await;
    assert_eq!(r["total_conversions"], 2.0);
    // Both deals are in EUR: 100 + 50.
    assert_eq!(
        r["total_values"],
        json!([{"currency": "EUR", "amount": "150"}])
    );
    let models: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["linear", "first_touch", "last_touch", "markov"]);
    // Linear: A's 100 half to email, half to paid_search; B's 50 to paid_search. First
    // touch: A's to email, B's to paid_search. Last touch: both to paid_search.
    for (model, email, paid_search) in [
        ("linear", (0.5, "50"), (1.5, "100")),
        ("first_touch", (1.0, "100"), (1.0, "50")),
        ("last_touch", (0.0, "0"), (2.0, "150")),
    ] {
        let expected = [
            ("display", 0.0, "0"),
            ("email", email.0, email.1),
            ("paid_search", paid_search.0, paid_search.1),
        ];
        assert_credits(&r, model, EUR, &expected);
    }
    // The chain: start → email, paid_search, display (1/3 each); email → paid_search and
    // display → paid_search (1); paid_search → conversion 2/3, null 1/3. P(conversion) = 2/3.
    // Without paid_search it is 0 (removal effect 1); without email or display 4/9 (1/3).
    // Credits are the removal effects' shares of the 2 conversions: 1.2, 0.4, 0.4.
    let markov = r["results"][3].clone();
    assert_eq!(markov["order"], 1);
    let got = credits(&r, "markov");
    let want = [("display", 0.4), ("email", 0.4), ("paid_search", 1.2)];
    assert_eq!(got.len(), 3);
    for ((channel, conv, _), (w_channel, w_conv)) in got.iter().zip(want) {
        assert_eq!(channel, w_channel);
        assert!((conv - w_conv).abs() < 1e-9, "markov {channel}: {conv}");
    }
    let effects: Vec<f64> = markov["removal_effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["conversion"].as_f64().unwrap())
        .collect();
    for (got, want) in effects.iter().zip([1.0 / 3.0, 1.0 / 3.0, 1.0]) {
        assert!((got - want).abs() < 1e-9, "{effects:?}");
    }
    // Markov's value credits of the currency sum exactly to its total.
    let value_sum: Decimal = credits(&r, "markov").iter().map(|c| c.2[0].1).sum();
    assert_eq!(value_sum, Decimal::from(150));
    let value_effects: Vec<usize> = markov["removal_effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["values"].as_array().unwrap().len())
        .collect();
    assert_eq!(value_effects, [1, 1, 1]);

    // By campaign: c1 (email), c2 (paid_search), (none) (display).
    let r = app
        .get_json("/v1/attribution?models=linear&group_by=campaign")
        .await;
    assert_credits(
        &r,
        "linear",
        EUR,
        &[("(none)", 0.0, "0"), ("c1", 0.5, "50"), ("c2", 1.5, "100")],
    );

    // `from`/`to` filter on conversion time: only B's win and C's loss before A's win.
    let r = app
        .get_json("/v1/attribution?models=linear&to=2026-05-10T00:00:00Z")
        .await;
    assert_eq!(r["total_conversions"], 1.0);
    let r = app
        .get_json("/v1/attribution?models=linear&from=2026-05-10T00:00:00Z")
        .await;
    assert_credits(
        &r,
        "linear",
        EUR,
        &[("email", 0.5, "50"), ("paid_search", 0.5, "50")],
    );

    // Every model runs on stored journeys, those needing touch times included.
    let r = app.get_json("/v1/attribution").await;
    assert_eq!(r["results"].as_array().unwrap().len(), 10);

    // CSV flattens the credits into rows.
    let resp = app
        .client
        .get(app.url("/v1/attribution?models=linear,markov&format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "model,markov_order,channel,conversions,value_EUR");
    assert_eq!(lines.len(), 1 + 2 * 3);
    assert!(lines.contains(&"linear,,email,0.5,50"), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("markov,1,paid_search,")));

    // Bad query fields are named.
    for (query, field) in [
        ("models=linear,bogus", "models"),
        ("models=markov&order=5", "order"),
        ("order=x", "order"),
        ("group_by=account", "group_by"),
        ("format=xml", "format"),
        ("from=yesterday", "from"),
    ] {
        let resp = app
            .client
            .get(app.url(&format!("/v1/attribution?{query}")))
            .send()
            .await
            .unwrap();
        let p = assert_problem(resp, 422, "").await;
        assert_eq!(fields(&p), [field], "{query}: {p}");
    }

    // Two won deals attributed (with linear: two converting journeys are too few for
    // Markov); the lost deal is not.
    assert_eq!(app.queued(ATTRIBUTED).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_in_different_currencies_are_never_added() {
    let app = spawn_app().await;
    let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
    app.ingest(&[
        lead_touch(x, "2026-05-01T00:00:00Z", "email", "click", None),
        lead_touch(y, "2026-05-01T00:00:00Z", "paid_search", "click", None),
        lead_touch(y, "2026-05-02T00:00:00Z", "email", "click", None),
    ])
    .await;
    app.publish(&deal_won(Uuid::now_v7(), x, "100", "2026-05-10T00:00:00Z"))
        .await;
    let mut in_usd = deal_won(Uuid::now_v7(), y, "30.50", "2026-05-10T00:00:00Z");
    in_usd.currency = "USD".parse().unwrap();
    app.publish(&in_usd).await;
    app.wait_inbox(2).await;

    let r = app.get_json("/v1/attribution?models=linear").await;
    assert_eq!(
        r["total_values"],
        json!([{"currency": "EUR", "amount": "100"}, {"currency": "USD", "amount": "30.5"}])
    );
    // X's 100 EUR all to email; Y's 30.50 USD half to paid_search, half to email.
    let got = credits(&r, "linear");
    let eur_usd = |eur: &str, usd: &str| {
        vec![
            (Some("EUR".to_string()), eur.parse::<Decimal>().unwrap()),
            (Some("USD".to_string()), usd.parse::<Decimal>().unwrap()),
        ]
    };
    assert_eq!(got[0].0, "email");
    assert_eq!(got[0].1, 1.5);
    assert_eq!(got[0].2, eur_usd("100", "15.25"));
    assert_eq!(got[1].0, "paid_search");
    assert_eq!(got[1].2, eur_usd("0", "15.25"));

    let resp = app
        .client
        .get(app.url("/v1/attribution?models=linear&format=csv"))
        .send()
        .await
        .unwrap();
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "model,markov_order,channel,conversions,value_EUR,value_USD"
    );
    assert_eq!(lines[1], "linear,,email,1.5,100,15.25", "{csv}");
}

const PATHS: &str = r#"{"paths": [
    {"path": ["email", "paid_search"], "conversions": 3, "value": "120.50", "nulls": 10},
    {"path": ["paid_search"], "conversions": 1, "value": 40, "nulls": 30},
    {"path": ["display", "email"], "conversions": 0, "nulls": 5}
]}"#;

async fn compute(
    app: &TestApp,
    query: &str,
    content_type: &str,
    body: String,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/attribution/compute{query}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_hoc_paths_as_json_and_csv_give_the_same_report() {
    let app = spawn_app().await;
    let resp = compute(
        &app,
        "?models=markov,linear,first_touch&order=2",
        "application/json",
        PATHS.into(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let from_json: Value = resp.json().await.unwrap();
    assert_eq!(from_json["total_conversions"], 4.0);
    // 120.50 + 40, in no currency: ad-hoc paths carry none.
    assert_eq!(
        from_json["total_values"],
        json!([{"currency": null, "amount": "160.5"}])
    );
    assert_eq!(from_json["results"][0]["order"], 2);
    assert!(from_json["results"][0]["removal_effects"].is_array());
    assert!(from_json["results"][0]["transition_matrix"].is_array());
    // Linear by hand: email 1.5 conversions (60.25), paid_search 2.5 (60.25 + 40).
    assert_credits(
        &from_json,
        "linear",
        None,
        &[
            ("display", 0.0, "0"),
            ("email", 1.5, "60.25"),
            ("paid_search", 2.5, "100.25"),
        ],
    );

    // The same paths as ChannelAttribution CSV, written by the engine's own writer.
    let stats: Vec<PathStat> = attribution::formats::parse_paths_json(PATHS).unwrap();
    let csv = attribution::formats::write_channel_attribution_csv(&stats).unwrap();
    assert!(csv.starts_with(attribution::formats::CSV_HEADER));
    let resp = compute(
        &app,
        "?models=markov,linear,first_touch&order=2",
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let from_csv: Value = resp.json().await.unwrap();
    assert_eq!(from_csv, from_json);

    // A hand-written CSV with ChannelAttribution's separators.
    let resp = compute(
        &app,
        "?models=last_touch",
        "text/csv; charset=utf-8",
        "path;total_conversions;total_conversion_value;total_null\n\
         email > paid_search;2;30;1\n\
         email;1;10;0\n"
            .into(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_credits(
        &r,
        "last_touch",
        None,
        &[("email", 1.0, "10"), ("paid_search", 2.0, "30")],
    );

    // Parquet of the credits.
    let resp = compute(
        &app,
        "?models=linear&format=parquet",
        "application/json",
        PATHS.into(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    assert!(resp.bytes().await.unwrap().starts_with(b"PAR1"));

    // Models that need touch times, unknown models and bad orders are named.
    for (query, field) in [
        ("?models=linear,time_decay", "models"),
        ("?models=w_shaped", "models"),
        ("?models=full_path", "models"),
        ("?models=nope", "models"),
        ("?models=markov&order=0", "order"),
    ] {
        let resp = compute(&app, query, "application/json", PATHS.into()).await;
        let p = assert_problem(resp, 422, "").await;
        assert_eq!(fields(&p), [field], "{query}: {p}");
    }
    // Without `models`, every model that reads only paths.
    let resp = compute(&app, "", "application/json", PATHS.into()).await;
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["results"].as_array().unwrap().len(), 7);

    // Bodies: a JSON field at fault, broken JSON, an unsupported type.
    let resp = compute(
        &app,
        "?models=linear",
        "application/json",
        r#"{"paths": [{"path": ["email"], "conversions": -1}]}"#.into(),
    )
    .await;
    let p = assert_problem(resp, 422, "").await;
    assert_eq!(fields(&p), ["paths[0].conversions"], "{p}");
    let resp = compute(&app, "?models=linear", "application/json", "{".into()).await;
    assert_problem(resp, 400, "").await;
    let resp = compute(&app, "?models=linear", "text/plain", "x".into()).await;
    assert_problem(resp, 415, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_csv_row_is_refused_naming_its_line() {
    let app = spawn_app().await;
    let csv = "path;total_conversions;total_conversion_value;total_null\n\
               email > paid_search;2;30;1\n\
               email;one;10;0\n";
    let resp = compute(&app, "?models=linear", "text/csv", csv.into()).await;
    let p = assert_problem(resp, 422, "").await;
    assert_eq!(fields(&p), ["line 3"], "{p}");
    assert!(p["detail"].as_str().unwrap().contains("line 3"), "{p}");

    let resp = compute(&app, "?models=linear", "text/csv", "path;x\n".into()).await;
    let p = assert_problem(resp, 422, "").await;
    assert_eq!(fields(&p), ["line 1"], "{p}");
}

async fn attributed_events(tap: &mut platform::bus::Tap, wait: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(d) = tap.next(wait).await {
        let event: Value = serde_json::from_slice(&d.data).unwrap();
        assert_eq!(event["type"], ATTRIBUTED);
        out.push(event["data"].clone());
    }
    out
}

fn decimal(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// The touches of a lead on the path `email (c1, form_submit) > paid_search (c2)`, A's in
/// [`three_journeys`].
fn email_then_paid_search(lead: Uuid) -> [Value; 2] {
    [
        lead_touch(
            lead,
            "2026-05-01T00:00:00Z",
            "email",
            "form_submit",
            Some("c1"),
        ),
        lead_touch(
            lead,
            "2026-05-02T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversion_attributed_is_published_once_per_won_deal() {
    // Markov however thin the data, so that the hand-worked chain applies; a training window
    // that holds the tests' fixed dates whatever today is; the model trained again after
    // every attributed deal.
    let mut config = test_config();
    config.attribution.min_conversions = 0;
    config.attribution.training_days = 36_500;
    config.model_refresh.after_conversions = 1;
    let app = spawn_with(config).await;
    let mut tap = app.tap(ATTRIBUTED).await;

    // The journeys of `three_journeys`, and T, a twin of A (same path) won before it. A deal
    // is attributed with the model trained before it, which has not seen the deal itself:
    // T stands in for A in A's training window, so A meets the hand-worked chain of A, B, C.
    let [a, b, c, t] = [(); 4].map(|()| Uuid::now_v7());
    let [deal_a, deal_b, deal_c, deal_t] = [(); 4].map(|()| Uuid::now_v7());
    let mut touches = Vec::new();
    touches.extend(email_then_paid_search(a));
    touches.extend(email_then_paid_search(t));
    touches.extend([
        lead_touch(
            b,
            "2026-05-01T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
        lead_touch(c, "2026-05-01T00:00:00Z", "display", "impression", None),
        lead_touch(
            c,
            "2026-05-02T00:00:00Z",
            "paid_search",
            "click",
            Some("c2"),
        ),
    ]);
    app.ingest(&touches).await;
    // B is the first won deal the service sees: the model is trained for it in its own
    // transaction, on B's win and C's loss.
    app.publish(&deal_lost(deal_c, c, "2026-05-08T00:00:00Z"))
        .await;
    app.publish(&deal_won(deal_b, b, "50", "2026-05-09T00:00:00Z"))
        .await;
    app.wait_inbox(2).await;
    // T is attributed with the model of B and C, and the model is trained again after it.
    app.publish(&deal_won(deal_t, t, "80", "2026-05-09T12:00:00Z"))
        .await;
    app.wait_inbox(3).await;
    app.wait_for_model_of(3).await;
    app.publish(&deal_won(deal_a, a, "100", "2026-05-10T00:00:00Z"))
        .await;
    app.wait_inbox(4).await;

    // A redelivered deal.won (same event) and a second event for the same deal publish
    // nothing more.
    let again = deal_won(deal_a, a, "100", "2026-05-10T00:00:00Z");
    let raw = contracts::RawEvent::new(&again, None);
    app.service.publish(&raw).await;
    app.service.publish(&raw).await;
    app.wait_inbox(5).await;

    let mut events = attributed_events(&mut tap, Duration::from_secs(5)).await;
    events.sort_by_key(|e| e["value"].as_str().unwrap().parse::<Decimal>().unwrap());
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(app.queued(ATTRIBUTED).await, 3);

    // B: one touch on paid_search (c2) takes all of the 50. Its model learnt from B's win
    // and C's loss.
    let e = &events[0];
    assert_eq!(e["deal_id"], deal_b.to_string());
    assert_eq!(e["lead_id"], b.to_string());
    assert_eq!(e["model"], "markov");
    assert_eq!(e["order"], 1);
    assert_eq!(e["touch_count"], 1);
    assert_eq!(e["currency"], "EUR");
    assert_eq!(
        e["credits"],
        json!([{"channel": "paid_search", "campaign_id": "c2", "conversions": "1", "value": "50"}])
    );

    // T: the model of B and C has never seen email convert (removal effect 0), so
    // paid_search takes all of the 80.
    let e = &events[1];
    assert_eq!(e["deal_id"], deal_t.to_string());
    assert_eq!((&e["model"], &e["order"]), (&json!("markov"), &json!(1)));
    assert_eq!(
        e["credits"],
        json!([
            {"channel": "email", "campaign_id": "c1", "conversions": "0", "value": "0"},
            {"channel": "paid_search", "campaign_id": "c2", "conversions": "1", "value": "80"}
        ])
    );

    // A: removal effects of email 1/3 and paid_search 1 (the journeys of T, B and C), so
    // email gets 1/3 / (1/3 + 1) = 1/4 of the deal and paid_search 3/4.
    let e = &events[2];
    assert_eq!(e["deal_id"], deal_a.to_string());
    assert_eq!((&e["model"], &e["order"]), (&json!("markov"), &json!(1)));
    assert_eq!(e["touch_count"], 2);
    let credits = e["credits"].as_array().unwrap();
    assert_eq!(credits.len(), 2, "{e}");
    assert_eq!(credits[0]["channel"], "email");
    assert_eq!(credits[0]["campaign_id"], "c1");
    assert_eq!(decimal(&credits[0]["conversions"]), Decimal::new(25, 2));
    assert_eq!(decimal(&credits[0]["value"]), Decimal::from(25));
    assert_eq!(credits[1]["channel"], "paid_search");
    assert_eq!(credits[1]["campaign_id"], "c2");
    assert_eq!(decimal(&credits[1]["value"]), Decimal::from(75));
    let value: Decimal = credits.iter().map(|c| decimal(&c["value"])).sum();
    assert_eq!(value, decimal(&e["value"]));
    let share: Decimal = credits.iter().map(|c| decimal(&c["conversions"])).sum();
    assert_eq!(share, Decimal::ONE);

    // Each won deal's attribution is served as published.
    for e in &events {
        let deal = e["deal_id"].as_str().unwrap();
        let got = app.get_json(&format!("/v1/deals/{deal}/attribution")).await;
        assert_eq!(got["deal_id"], e["deal_id"]);
        assert_eq!(got["conversion_id"], e["conversion_id"]);
        assert_eq!(got["lead_id"], e["lead_id"]);
        assert_eq!(
            (&got["value"], &got["currency"]),
            (&e["value"], &e["currency"])
        );
        let results = got["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{got}");
        assert_eq!(
            (&results[0]["model"], &results[0]["order"]),
            (&json!("markov"), &json!(1))
        );
        assert_eq!(results[0]["touch_count"], e["touch_count"]);
        assert_eq!(results[0]["credits"], e["credits"]);
    }
    // A lost deal and an unknown one have no attribution.
    for deal in [deal_c, Uuid::now_v7()] {
        let resp = app.get(&format!("/v1/deals/{deal}/attribution")).await;
        assert_problem(resp, 404, "").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn value_credits_sum_exactly_to_an_awkward_deal_value() {
    let app = spawn_app().await;
    let mut tap = app.tap(ATTRIBUTED).await;
    let lead = Uuid::now_v7();
    app.ingest(&[
        lead_touch(
            lead,
            "2026-05-01T00:00:00Z",
            "email",
            "email_click",
            Some("n1"),
        ),
        lead_touch(lead, "2026-05-02T00:00:00Z", "display", "click", Some("d1")),
        lead_touch(lead, "2026-05-03T00:00:00Z", "paid_search", "click", None),
    ])
    .await;
    app.publish(&deal_won(
        Uuid::now_v7(),
        lead,
        "100.01",
        "2026-05-04T00:00:00Z",
    ))
    .await;
    let events = attributed_events(&mut tap, Duration::from_secs(5)).await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    // Thin data: linear, a third each, the odd cent to the largest (the first).
    assert_eq!(e["model"], "linear");
    assert!(e.get("order").is_none());
    let values: Vec<Decimal> = e["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| decimal(&c["value"]))
        .collect();
    assert_eq!(
        values.iter().copied().sum::<Decimal>(),
        "100.01".parse().unwrap()
    );
    assert_eq!(values.len(), 3);
    let paid = &e["credits"][2];
    assert_eq!(paid["channel"], "paid_search");
    assert!(paid.get("campaign_id").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comparison_report_and_its_chart() {
    let app = spawn_app().await;
    three_journeys(&app).await;

    let rows = app.get_json("/v1/reports/attribution-comparison").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["channel"], "paid_search");
    assert_eq!(rows[2]["linear_conversions"], 1.5);
    assert_eq!(rows[2]["linear_share"], 0.75);
    assert_eq!(rows[2]["last_touch_share"], 1.0);
    assert_eq!(rows[2]["first_touch_share"], 0.5);
    // paid_search: largest share 1 (last touch), smallest 0.5 (first touch).
    assert_eq!(rows[2]["spread"], 0.5);
    assert!(rows[0].get("markov_share").is_some());
    assert!(rows[0].get("w_shaped_share").is_some());

    let resp = app
        .client
        .get(app.url("/v1/reports/attribution-comparison?format=csv&group_by=campaign&order=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let csv = resp.text().await.unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("channel,first_touch_conversions,first_touch_share,"));
    assert!(header.contains("markov_2_share"), "{header}");
    assert!(header.ends_with(",spread"));
    assert_eq!(csv.lines().count(), 1 + 3);

    let resp = app
        .client
        .get(app.url("/v1/reports/attribution-comparison.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    let svg = resp.text().await.unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("paid_search"));
    assert!(svg.contains("Share of conversions"));
    assert!(svg.contains("markov"));

    let resp = app
        .client
        .get(app.url("/v1/reports/attribution-comparison.svg?format=csv"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(resp, 422, "").await;
    assert_eq!(fields(&p), ["format"]);
}
