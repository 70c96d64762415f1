//! The report broken down by methodology and by stakeholder coverage: each segment's win
//! rate, cycle and average deal size per currency, worked by hand on eight deals, as JSON
//! and as the `segment_summary` file.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

fn close(actual: &Value, expected: f64, what: &str) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!((a - expected).abs() < 1e-9, "{what}: {a} != {expected}");
}

fn champion_and_buyer() -> Value {
    json!([{"person": "Grace", "role": "champion"}, {"person": "Alan", "role": "economic_buyer"}])
}

/// The segment of `report` with `value`.
fn segment<'a>(report: &'a Value, value: &str) -> &'a Value {
    report["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["value"] == value)
        .unwrap_or_else(|| panic!("no segment {value} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methodology_and_stakeholder_coverage_break_the_summary_down() {
    let app = spawn_app().await;
    let now = Utc::now();
    let ago = |d: i64| (now - Duration::days(d)).to_rfc3339();
    // (methodology, stakeholders, amount, currency, opened days ago, outcome), where the
    // outcome is won after n days, lost, or open.
    enum End {
        WonAfter(i64),
        Lost(&'static str),
        Open,
    }
    let talker = json!([{"person": "Tom", "role": "talker"}]);
    let champion = json!([{"person": "Grace", "role": "champion"}]);
    let deals = [
        (
            "meddicc",
            champion_and_buyer(),
            Some(("1000", "EUR")),
            30,
            End::WonAfter(10),
        ),
        (
            "meddicc",
            champion_and_buyer(),
            Some(("3001", "EUR")),
            40,
            End::WonAfter(20),
        ),
        (
            "meddicc",
            champion,
            Some(("500", "USD")),
            20,
            End::WonAfter(4),
        ),
        ("meddicc", json!([]), None, 5, End::Lost("price")),
        // Opened with neither, both set by a PATCH before it is won.
        (
            "patched",
            json!([]),
            Some(("2000", "EUR")),
            10,
            End::WonAfter(6),
        ),
        ("spin", talker, None, 8, End::Lost("timing")),
        ("spin", json!([]), None, 7, End::Lost("price")),
        ("none", json!([]), None, 3, End::Open),
    ];
    for (methodology, stakeholders, money, opened, end) in deals {
        let mut body = json!({"funnel_id": B2B, "opened_at": ago(opened)});
        if methodology != "patched" {
            body["methodology"] = json!(methodology);
            body["stakeholders"] = stakeholders;
        }
        if let Some((amount, currency)) = money {
            body["amount"] = json!(amount);
            body["currency"] = json!(currency);
        }
        let deal = app.deal(body).await;
        let id = deal["id"].as_str().unwrap();
        if methodology == "patched" {
            let resp = app
                .client
                .patch(app.url(&format!("/v1/deals/{id}")))
                .header("if-match", "\"1\"")
                .json(&json!({"methodology": "spin", "stakeholders": champion_and_buyer()}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        }
        match end {
            End::WonAfter(days) => {
                app.move_ok(id, json!({"to_stage": "won", "at": ago(opened - days)}))
                    .await;
            }
            End::Lost(reason) => {
                app.move_ok(id, json!({"to_stage": "lost", "reason": reason}))
                    .await;
            }
            End::Open => {}
        }
    }

    // By methodology: meddicc 3 won (cycles 10, 20, 4 days) and 1 lost; spin (one patched
    // to it) 1 won in 6 days and 2 lost; none 1 open.
    let r = app
        .get_json(&format!("/v1/funnels/{B2B}/report?breakdown=methodology"))
        .await;
    assert_eq!(r["breakdown"], "methodology");
    assert_eq!(
        strings(&r["breakdowns"], "value"),
        ["meddicc", "spin", "none"]
    );
    let meddicc = segment(&r, "meddicc");
    assert_eq!(meddicc["deals"], 4);
    let s = &meddicc["summary"];
    assert_eq!(
        (&s["won"], &s["lost"], &s["open"]),
        (&json!(3), &json!(1), &json!(0))
    );
    close(&s["win_rate"], 0.75, "meddicc win rate");
    close(&s["average_cycle_days"], 34.0 / 3.0, "meddicc cycle");
    // Never summed across currencies: (1000 + 3001) / 2 EUR, and 500 USD.
    assert_eq!(
        s["average_deal_size"],
        json!([{"currency": "EUR", "amount": "2000.50"}, {"currency": "USD", "amount": "500.00"}])
    );
    assert_eq!(s["loss_reasons"], json!([{"reason": "price", "deals": 1}]));
    let spin = &segment(&r, "spin")["summary"];
    assert_eq!((&spin["won"], &spin["lost"]), (&json!(1), &json!(2)));
    close(&spin["win_rate"], 1.0 / 3.0, "spin win rate");
    close(&spin["average_cycle_days"], 6.0, "spin cycle");
    assert_eq!(
        spin["average_deal_size"],
        json!([{"currency": "EUR", "amount": "2000.00"}])
    );
    let none = &segment(&r, "none")["summary"];
    assert_eq!(none["open"], 1);
    assert!(none["win_rate"].is_null() && none["average_cycle_days"].is_null());
    assert_eq!(none["average_deal_size"], json!([]));
    // The whole report's summary is unchanged by the breakdown.
    assert_eq!(r["summary"]["won"], 4);
    assert_eq!(segment(&r, "meddicc")["stages"][0]["entered"], 4);

    // By coverage: covered (champion and economic buyer) are the two meddicc wins and the
    // patched spin win; the five others are not covered, one of them won (500 USD in 4 days).
    let r = app
        .get_json(&format!(
            "/v1/funnels/{B2B}/report?breakdown=stakeholder_coverage"
        ))
        .await;
    assert_eq!(
        strings(&r["breakdowns"], "value"),
        ["not_covered", "covered"]
    );
    let covered = &segment(&r, "covered")["summary"];
    assert_eq!((&covered["won"], &covered["lost"]), (&json!(3), &json!(0)));
    close(&covered["win_rate"], 1.0, "covered win rate");
    close(&covered["average_cycle_days"], 12.0, "covered cycle");
    // (1000 + 3001 + 2000) / 3 = 2000.333… EUR.
    assert_eq!(
        covered["average_deal_size"],
        json!([{"currency": "EUR", "amount": "2000.33"}])
    );
    let uncovered = &segment(&r, "not_covered")["summary"];
    close(&uncovered["win_rate"], 0.25, "not covered win rate");
    close(&uncovered["average_cycle_days"], 4.0, "not covered cycle");

    // The same as a file: a row per segment, value and currency. Velocity: 1 open × 1/4 ×
    // 500 ÷ 4 days = 31.25 USD a day; nothing open among the covered.
    let csv = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?breakdown=stakeholder_coverage&format=csv&part=segment_summary"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        "segment,value,currency,deals,open,won,lost,win_rate,average_cycle_days,average_deal_size,sales_velocity_per_day\n\
         breakdown,not_covered,USD,5,1,1,3,0.25,4.0,500.00,31.25\n\
         breakdown,covered,EUR,3,0,3,0,1.0,12.0,2000.33,0.00\n"
    );
    let lines = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?breakdown=methodology&format=ndjson&part=segment_summary"
        ))
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let figures: Vec<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap(),
                r["currency"].as_str(),
                r["average_deal_size"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("meddicc", Some("EUR"), Some("2000.50")),
            ("meddicc", Some("USD"), Some("500.00")),
            ("spin", Some("EUR"), Some("2000.00")),
            ("none", None, None),
        ]
    );
    let parquet = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?breakdown=methodology&format=parquet&part=segment_summary"
        ))
        .await;
    assert_eq!(parquet.status().as_u16(), 200);
    assert_eq!(&parquet.bytes().await.unwrap()[..4], b"PAR1");

    // A segment summary needs segments.
    let resp = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?format=csv&part=segment_summary"
        ))
        .await;
    assert_problem(resp, 422, "part").await;
    let resp = app
        .get(&format!("/v1/funnels/{B2B}/report?breakdown=stakeholders"))
        .await;
    assert_problem(resp, 422, "breakdown").await;
}
