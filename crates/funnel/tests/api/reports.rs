//! The funnel report against a brute-force reference written with plain loops: every
//! assignment of a deal's events to the steps is enumerated and checked, and the figures
//! are computed from the chosen matches directly. Random small datasets, every order mode,
//! per-step windows and gaps, an optional step, a global window, breakdowns and cohorts.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::*;

const DAY: i64 = 86_400;

#[derive(Clone, Copy)]
struct Rule {
    optional: bool,
    window: Option<i64>,
    gap: Option<i64>,
}

/// a → b (within 10 days of a) → c (optional) → d (at least 1 day after the previous) → e.
const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];
const RULES: [Rule; 5] = [
    Rule {
        optional: false,
        window: None,
        gap: None,
    },
    Rule {
        optional: false,
        window: Some(10 * DAY),
        gap: None,
    },
    Rule {
        optional: true,
        window: None,
        gap: None,
    },
    Rule {
        optional: false,
        window: None,
        gap: Some(DAY),
    },
    Rule {
        optional: false,
        window: None,
        gap: None,
    },
];

struct Deal {
    key: String,
    opened: DateTime<Utc>,
    status: String,
    reason: Option<String>,
    /// (step or None for lost, time in seconds), in (at, seq) order.
    moves: Vec<(Option<usize>, i64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Strict,
    Ordered,
    Any,
}

/// Is this assignment (event index per step) a valid match?
fn valid(
    a: &[Option<usize>],
    ev: &[(Option<usize>, i64)],
    mode: Mode,
    window: Option<i64>,
) -> bool {
    if a[0].is_none() {
        return false;
    }
    let last = a.iter().rposition(Option::is_some).unwrap();
    if (0..last).any(|j| a[j].is_none() && !RULES[j].optional) {
        return false;
    }
    let matched: Vec<(usize, usize)> = a
        .iter()
        .enumerate()
        .filter_map(|(j, e)| e.map(|e| (j, e)))
        .collect();
    if mode != Mode::Any {
        for w in matched.windows(2) {
            let ((_, p), (j, e)) = (w[0], w[1]);
            if e <= p || (mode == Mode::Strict && e != p + 1) {
                return false;
            }
            let dt = ev[e].1 - ev[p].1;
            if RULES[j].window.is_some_and(|x| dt > x) || RULES[j].gap.is_some_and(|g| dt < g) {
                return false;
            }
        }
    }
    let times: Vec<i64> = matched.iter().map(|(_, e)| ev[*e].1).collect();
    let spread = times.iter().max().unwrap() - times.iter().min().unwrap();
    window.is_none_or(|w| spread <= w)
}

/// Best valid assignment: furthest step, then most steps, then earliest events.
fn brute_match(
    ev: &[(Option<usize>, i64)],
    mode: Mode,
    window: Option<i64>,
) -> Option<Vec<Option<usize>>> {
    let options: Vec<Vec<Option<usize>>> = (0..NAMES.len())
        .map(|j| {
            let mut o = vec![None];
            o.extend((0..ev.len()).filter(|&i| ev[i].0 == Some(j)).map(Some));
            o
        })
        .collect();
    type Scored = (i64, usize, Vec<usize>, Vec<Option<usize>>);
    let mut best: Option<Scored> = None;
    let total: usize = options.iter().map(Vec::len).product();
    for mut code in 0..total {
        let a: Vec<Option<usize>> = options
            .iter()
            .map(|o| {
                let pick = o[code % o.len()];
                code /= o.len();
                pick
            })
            .collect();
        if !valid(&a, ev, mode, window) {
            continue;
        }
        let furthest = a.iter().rposition(Option::is_some).unwrap() as i64;
        let count = a.iter().filter(|x| x.is_some()).count();
        let lex: Vec<usize> = a.iter().map(|x| x.unwrap_or(usize::MAX)).collect();
        let better = match &best {
            None => true,
            Some((f, c, l, _)) => {
                (furthest, count) > (*f, *c) || ((furthest, count) == (*f, *c) && lex < *l)
            }
        };
        if better {
            best = Some((furthest, count, lex, a));
        }
    }
    best.map(|b| b.3)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn p90(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = 0.9 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// The expected stage table of `deals`.
fn expected(deals: &[&Deal], mode: Mode, window: Option<i64>) -> Vec<Value> {
    let n = NAMES.len();
    let mut entered = vec![0u64; n];
    let mut deltas = vec![Vec::new(); n];
    let mut stays = vec![Vec::new(); n];
    for d in deals {
        for w in d.moves.windows(2) {
            if let Some(s) = w[0].0 {
                stays[s].push((w[1].1 - w[0].1) as f64);
            }
        }
        let Some(m) = brute_match(&d.moves, mode, window) else {
            continue;
        };
        let mut prev: Option<i64> = None;
        for j in 0..n {
            if let Some(e) = m[j] {
                entered[j] += 1;
                let t = d.moves[e].1;
                if let Some(p) = prev {
                    deltas[j].push((t - p) as f64);
                }
                prev = Some(t);
            }
        }
    }
    let mut out = Vec::new();
    let mut prev_required: Option<usize> = None;
    for j in 0..n {
        let base = prev_required.map(|p| entered[p]);
        let ratio = |a: u64, b: u64| {
            if b == 0 {
                Value::Null
            } else {
                json!(a as f64 / b as f64)
            }
        };
        out.push(json!({
            "stage": NAMES[j],
            "entered": entered[j],
            "conversion_from_previous": base.map_or(Value::Null, |b| ratio(entered[j], b)),
            "conversion_from_first": if j == 0 { Value::Null } else { ratio(entered[j], entered[0]) },
            "drop_off": base.map_or(Value::Null, |b| json!(b.saturating_sub(entered[j]))),
            "ttc": [median(&mut deltas[j]), mean(&deltas[j]), p90(&mut deltas[j])],
            "tis": [median(&mut stays[j]), mean(&stays[j])],
        }));
        if !RULES[j].optional {
            prev_required = Some(j);
        }
    }
    out
}

fn close(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
            "{what}: {x} != {y}"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

fn compare(got: &[Value], want: &[Value], ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}");
    for (g, w) in got.iter().zip(want) {
        let at = format!("{ctx} stage {}", w["stage"]);
        assert_eq!(g["stage"], w["stage"], "{at}");
        assert_eq!(g["entered"], w["entered"], "{at} entered");
        assert_eq!(g["drop_off"], w["drop_off"], "{at} drop_off");
        close(
            &g["conversion_from_previous"],
            &w["conversion_from_previous"],
            &format!("{at} conv prev"),
        );
        close(
            &g["conversion_from_first"],
            &w["conversion_from_first"],
            &format!("{at} conv first"),
        );
        let t = &g["time_to_convert"];
        if w["stage"] != "a" {
            close(&t["median_secs"], &w["ttc"][0], &format!("{at} ttc median"));
            close(&t["mean_secs"], &w["ttc"][1], &format!("{at} ttc mean"));
            close(&t["p90_secs"], &w["ttc"][2], &format!("{at} ttc p90"));
        }
        close(
            &g["time_in_stage"]["median_secs"],
            &w["tis"][0],
            &format!("{at} tis median"),
        );
        close(
            &g["time_in_stage"]["mean_secs"],
            &w["tis"][1],
            &format!("{at} tis mean"),
        );
    }
}

/// Imports a random history and reads it back as the reference sees it.
async fn dataset(app: &TestApp, funnel: &str, seed: u64) -> Vec<Deal> {
    let mut rng = StdRng::seed_from_u64(seed);
    let base = Utc.with_ymd_and_hms(2026, 5, 4, 0, 0, 0).unwrap();
    let sources = ["web", "event", "partner"];
    let mut body = Vec::new();
    for i in 0..36 {
        let mut at = base + Duration::seconds(rng.random_range(0..70 * DAY));
        let first = if rng.random_bool(0.85) { "a" } else { "b" };
        let attrs = if rng.random_bool(0.8) {
            json!({"source": sources[rng.random_range(0..3)]})
        } else {
            json!({})
        };
        let mut lines = vec![json!({"external_id": format!("D{i}"), "stage": first,
                                    "at": at.to_rfc3339(), "attributes": attrs})];
        // Half the deals walk the funnel in order (windows and gaps decide how far they
        // count); the others wander, backwards and sideways.
        let walk = rng.random_bool(0.5);
        let path = ["b", "c", "d", "e"];
        for k in 0..rng.random_range(0..7) {
            at += Duration::seconds(rng.random_range(0..9 * DAY));
            let stage = if walk {
                match path.get(k) {
                    Some(s) => *s,
                    None => break,
                }
            } else {
                ["a", "b", "c", "d", "e", "lost", "b", "c", "d"][rng.random_range(0..9)]
            };
            let reason = ["price", "timing"][rng.random_range(0..2)];
            lines.push(json!({"external_id": format!("D{i}"), "stage": stage,
                              "at": at.to_rfc3339(), "reason": reason}));
        }
        for l in lines {
            body.extend_from_slice(l.to_string().as_bytes());
            body.push(b'\n');
        }
    }
    let r = app.import(funnel, body).await;
    assert_eq!(r["deals_created"], 36, "{r}");
    let list = app
        .get_json(&format!("/v1/deals?funnel_id={funnel}&limit=500"))
        .await;
    let mut deals = Vec::new();
    for d in list["items"].as_array().unwrap() {
        let log = app.log(d["id"].as_str().unwrap()).await;
        let mut moves: Vec<(i64, i64, Option<usize>)> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let at: DateTime<Utc> = t["at"].as_str().unwrap().parse().unwrap();
                let stage = t["to_stage"].as_str().unwrap();
                (
                    at.timestamp(),
                    t["seq"].as_i64().unwrap(),
                    NAMES.iter().position(|n| *n == stage),
                )
            })
            .collect();
        moves.sort();
        deals.push(Deal {
            key: d["attributes"]["source"]
                .as_str()
                .unwrap_or("(none)")
                .to_string(),
            opened: d["opened_at"].as_str().unwrap().parse().unwrap(),
            status: d["status"].as_str().unwrap().to_string(),
            reason: d["close_reason"].as_str().map(str::to_string),
            moves: moves.into_iter().map(|(at, _, s)| (s, at)).collect(),
        });
    }
    deals
}

async fn custom_funnel(app: &TestApp) -> String {
    let resp = app
        .post_json(
            "/v1/funnels",
            &json!({"name": "test", "stages": [
                {"name": "a"}, {"name": "b", "window": "10d"}, {"name": "c", "optional": true},
                {"name": "d", "min_gap": "1d"}, {"name": "e"}]}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    let f: Value = resp.json().await.unwrap();
    f["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_matches_brute_force_in_every_mode() {
    let app = spawn_app().await;
    let funnel = custom_funnel(&app).await;
    let deals = dataset(&app, &funnel, 11).await;
    let modes = [
        ("strict", Mode::Strict),
        ("ordered", Mode::Ordered),
        ("any", Mode::Any),
    ];
    let mut nontrivial = false;
    for (name, mode) in modes {
        for window in [None, Some(12 * DAY)] {
            let mut path =
                format!("/v1/funnels/{funnel}/report?order={name}&breakdown=source&cohort=month");
            if let Some(w) = window {
                path.push_str(&format!("&window={}d", w / DAY));
            }
            let r = app.get_json(&path).await;
            let ctx = format!("{name} window {window:?}");
            assert_eq!(r["funnel_version"], 1);
            assert_eq!(r["deals"], deals.len());
            let all: Vec<&Deal> = deals.iter().collect();
            let want = expected(&all, mode, window);
            compare(r["stages"].as_array().unwrap(), &want, &ctx);
            nontrivial |= want[4]["entered"].as_u64().unwrap() > 0;

            let mut by_key: BTreeMap<&str, Vec<&Deal>> = BTreeMap::new();
            for d in &deals {
                by_key.entry(d.key.as_str()).or_default().push(d);
            }
            let segments = r["breakdowns"].as_array().unwrap();
            assert_eq!(segments.len(), by_key.len(), "{ctx}");
            for seg in segments {
                let group = &by_key[seg["value"].as_str().unwrap()];
                assert_eq!(seg["deals"], group.len());
                compare(
                    seg["stages"].as_array().unwrap(),
                    &expected(group, mode, window),
                    &format!("{ctx} {}", seg["value"]),
                );
            }
            let mut by_month: BTreeMap<String, Vec<&Deal>> = BTreeMap::new();
            for d in &deals {
                by_month
                    .entry(format!("{:04}-{:02}", d.opened.year(), d.opened.month()))
                    .or_default()
                    .push(d);
            }
            let trends = r["trends"].as_array().unwrap();
            let months: Vec<&str> = trends
                .iter()
                .map(|t| t["value"].as_str().unwrap())
                .collect();
            assert_eq!(
                months,
                by_month.keys().map(String::as_str).collect::<Vec<_>>()
            );
            for t in trends {
                let want = expected(&by_month[t["value"].as_str().unwrap()], mode, window);
                for (g, w) in t["stages"].as_array().unwrap().iter().zip(&want) {
                    assert_eq!(g["entered"], w["entered"], "{ctx} cohort {}", t["value"]);
                }
            }
        }
    }
    assert!(
        nontrivial,
        "the dataset should carry some deals through the whole funnel"
    );

    // Summary figures and the open-date window.
    let r = app.get_json(&format!("/v1/funnels/{funnel}/report")).await;
    let count = |s: &str| deals.iter().filter(|d| d.status == s).count() as u64;
    let s = &r["summary"];
    assert_eq!(s["won"], count("won"));
    assert_eq!(s["lost"], count("lost"));
    assert_eq!(s["open"], count("open"));
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for d in deals.iter().filter(|d| d.status == "lost") {
        *reasons.entry(d.reason.as_deref().unwrap()).or_default() += 1;
    }
    let got: BTreeMap<&str, u64> = s["loss_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reason"].as_str().unwrap(), r["deals"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, reasons);
    let from = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let r = app
        .get_json(&format!(
            "/v1/funnels/{funnel}/report?from={}&to={}",
            from.format("%Y-%m-%dT%H:%M:%SZ"),
            to.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await;
    let june: Vec<&Deal> = deals
        .iter()
        .filter(|d| d.opened >= from && d.opened < to)
        .collect();
    assert_eq!(r["deals"], june.len());
    compare(
        r["stages"].as_array().unwrap(),
        &expected(&june, Mode::Ordered, None),
        "june",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_is_worked_by_hand_and_formats_render() {
    let app = spawn_app().await;
    let now = Utc::now();
    let ago = |d: i64| (now - Duration::days(d)).to_rfc3339();
    // Won 1000 after 10 days, won 3000 after 20 days, one lost on price, one open.
    for (amount, opened, cycle) in [("1000", 30, 10), ("3000", 40, 20)] {
        let d = app
            .deal(json!({"funnel_id": B2B, "amount": amount, "currency": "EUR", "opened_at": ago(opened)}))
            .await;
        app.move_ok(
            d["id"].as_str().unwrap(),
            json!({"to_stage": "won", "at": ago(opened - cycle)}),
        )
        .await;
    }
    let lost = app
        .deal(json!({"funnel_id": B2B, "opened_at": ago(5)}))
        .await;
    app.move_ok(
        lost["id"].as_str().unwrap(),
        json!({"to_stage": "lost", "reason": "price"}),
    )
    .await;
    app.deal(json!({"funnel_id": B2B, "opened_at": ago(3)}))
        .await;

    let r = app.get_json(&format!("/v1/funnels/{B2B}/report")).await;
    let s = &r["summary"];
    assert_eq!(
        (s["won"].as_u64(), s["lost"].as_u64(), s["open"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    close(&s["win_rate"], &json!(2.0 / 3.0), "win rate");
    assert_eq!(
        s["average_deal_size"],
        json!([{"currency": "EUR", "amount": "2000.00"}])
    );
    close(&s["average_cycle_days"], &json!(15.0), "cycle");
    // 1 open × 2/3 × 2000 ÷ 15 days = 88.888… per day.
    assert_eq!(
        s["sales_velocity_per_day"],
        json!([{"currency": "EUR", "amount": "88.89"}])
    );
    assert_eq!(s["loss_reasons"], json!([{"reason": "price", "deals": 1}]));
    // Skipped stages: 4 deals entered lead, 2 reached won directly.
    assert_eq!(r["stages"][0]["entered"], 4);
    assert_eq!(r["stages"][1]["entered"], 0);

    let csv = app
        .get(&format!("/v1/funnels/{B2B}/report?format=csv"))
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("segment,value,stage,entered,"), "{text}");
    assert!(text.contains("all,,lead,4,"), "{text}");
    // The summary and the loss reasons are files of their own.
    let summary = app
        .get(&format!("/v1/funnels/{B2B}/report?format=csv&part=summary"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        summary,
        "currency,deals,open,won,lost,win_rate,average_cycle_days,average_deal_size,sales_velocity_per_day\n\
         EUR,4,1,2,1,0.6666666666666666,15.0,2000.00,88.89\n"
    );
    let reasons = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?format=csv&part=loss_reasons"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(reasons, "reason,deals\nprice,1\n");
    let lines = app
        .get(&format!(
            "/v1/funnels/{B2B}/report?format=ndjson&part=summary"
        ))
        .await
        .text()
        .await
        .unwrap();
    let row: Value = serde_json::from_str(lines.trim_end()).unwrap();
    assert_eq!(
        (&row["won"], &row["average_deal_size"], &row["currency"]),
        (&json!(2), &json!("2000.00"), &json!("EUR"))
    );
    let parquet = app
        .get(&format!("/v1/funnels/{B2B}/report?format=parquet"))
        .await;
    assert_eq!(parquet.status().as_u16(), 200);
    assert_eq!(&parquet.bytes().await.unwrap()[..4], b"PAR1");
    let svg = app
        .get(&format!("/v1/funnels/{B2B}/report.svg?order=any"))
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("opportunity") && svg.contains("4 deals"));

    for (q, field) in [
        ("order=random", "order"),
        ("window=forever", "window"),
        ("breakdown=colour", "breakdown"),
        ("cohort=year", "cohort"),
        ("format=xlsx", "format"),
        ("format=csv&part=totals", "part"),
        ("part=summary", "part"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ("version=9", "version"),
        ("bogus=1", "bogus"),
    ] {
        let resp = app.get(&format!("/v1/funnels/{B2B}/report?{q}")).await;
        assert_problem(resp, 422, field).await;
    }
}
