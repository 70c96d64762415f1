//! The attribution engine's targets, on the seeded synthetic set (1M journeys, 12 channels,
//! ~3M touches): exact Markov order 1 beside ChannelAttribution's simulated one, the
//! path heuristics over stored touches beside DuckDB, and Markov order 3's time and memory
//! in a process of its own. Also the per-channel gap between exact and simulated credits.

use std::collections::HashMap;
use std::time::Instant;

use attribution::formats::write_channel_attribution_csv;
use attribution::synthetic::{self, SyntheticConfig};
use attribution::{Model, ModelRequest, PathSet, PathStat, Report, attribute_paths};
use polars::prelude::*;

use crate::peer;
use crate::process::status_mb;
use crate::report::{Row, Verdict};

/// The rows, and the Markdown table of exact against simulated credits per channel.
pub struct Results {
    pub rows: Vec<Row>,
    pub gap: Option<String>,
}

fn markov(order: i64) -> anyhow::Result<Model> {
    Ok(Model::from_request(&ModelRequest {
        model: "markov".into(),
        order: Some(order),
        ..ModelRequest::default()
    })?)
}

pub async fn run() -> anyhow::Result<Results> {
    tokio::task::spawn_blocking(run_blocking).await?
}

fn run_blocking() -> anyhow::Result<Results> {
    let config = SyntheticConfig::benchmark();
    let dir = peer::scratch_dir("attribution")?;
    let mut rows = Vec::new();

    // Exact Markov order 1 against ChannelAttribution on the same aggregated paths.
    let stats = synthetic::paths(&config);
    let csv = dir.join("paths.csv");
    std::fs::write(&csv, write_channel_attribution_csv(&stats)?)?;
    let started = Instant::now();
    let set = PathSet::new(&stats)?;
    let ours = attribute_paths(&set, &[markov(1)?])?;
    let ours_secs = started.elapsed().as_secs_f64();
    let what = format!(
        "Exact Markov order 1 over {} distinct paths ({} journeys, 12 channels): intern + chain + removal effects",
        stats.len(),
        config.journeys
    );
    let mut gap = None;
    match peer::run_json("ca_markov.py", &[csv.to_string_lossy().as_ref(), "1"]) {
        Ok(ca) => {
            let ca_secs = ca["seconds"].as_f64().unwrap_or(f64::NAN);
            let speedup = ca_secs / ours_secs;
            rows.push(Row {
                what,
                result: format!("{ours_secs:.3} s ({speedup:.1}× faster)"),
                baseline: format!(
                    "ChannelAttribution {} `markov_model(order=1, ncore=1, out_more=True)`, default 100,000 simulations: {ca_secs:.2} s",
                    peer::ca_version()
                ),
                goal: "≥ 4× faster".into(),
                verdict: Verdict::met_if(speedup >= 4.0),
            });
            gap = Some(gap_table(&ours, &ca["credits"]));
        }
        Err(e) => rows.push(unavailable(
            what,
            format!("{ours_secs:.3} s"),
            "≥ 4× faster",
            e,
        )),
    }
    drop(set);
    drop(stats);

    rows.push(heuristics(&config, &dir)?);
    rows.push(markov3_row()?);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Results { rows, gap })
}

fn unavailable(what: String, result: String, goal: &str, e: anyhow::Error) -> Row {
    eprintln!("baseline unavailable: {e:#}");
    Row {
        what,
        result,
        baseline: "baseline unavailable (see `make bench` output)".into(),
        goal: goal.into(),
        verdict: Verdict::Recorded,
    }
}

/// Per channel: our exact credit, ChannelAttribution's simulated one, and the difference.
fn gap_table(ours: &Report, ca: &serde_json::Value) -> String {
    let mut out = String::from(
        "| channel | exact conversions (ours) | simulated conversions (ChannelAttribution) | difference | relative |\n|---|---|---|---|---|\n",
    );
    let mut worst: f64 = 0.0;
    for c in &ours.results[0].credits {
        let theirs = ca[&c.channel][0].as_f64();
        match theirs {
            Some(t) => {
                let rel = (t - c.conversions) / c.conversions.max(f64::MIN_POSITIVE);
                worst = worst.max(rel.abs());
                out.push_str(&format!(
                    "| {} | {:.1} | {:.1} | {:+.1} | {:+.2} % |\n",
                    c.channel,
                    c.conversions,
                    t,
                    t - c.conversions,
                    rel * 100.0
                ));
            }
            None => out.push_str(&format!(
                "| {} | {:.1} | — | — | — |\n",
                c.channel, c.conversions
            )),
        }
    }
    out.push_str(&format!(
        "\nLargest relative gap: {:.2} %.\n",
        worst * 100.0
    ));
    out
}

/// The journeys as stored touches: one Parquet row per touch, in journey and time order,
/// with the journey's conversions and value on each row.
fn write_touches(config: &SyntheticConfig, path: &std::path::Path) -> anyhow::Result<usize> {
    let journeys = synthetic::journeys(config);
    let n: usize = journeys.iter().map(|j| j.touches.len()).sum();
    let (mut journey, mut pos, mut channel, mut conversions, mut value) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, j) in journeys.iter().enumerate() {
        let mut touches: Vec<_> = j.touches.iter().collect();
        touches.sort_by_key(|t| t.at);
        for (k, t) in touches.iter().enumerate() {
            journey.push(i as u32);
            pos.push(k as u32);
            channel.push(t.channel.as_str());
            conversions.push(j.conversions);
            value.push(j.value);
        }
    }
    let mut df = df![
        "journey" => journey,
        "pos" => pos,
        "channel" => channel,
        "conversions" => conversions,
        "value" => value,
    ]?;
    ParquetWriter::new(std::fs::File::create(path)?).finish(&mut df)?;
    Ok(n)
}

/// Reads the stored touches back into aggregated paths, as a service would before running
/// the path models.
fn read_paths(path: &std::path::Path) -> anyhow::Result<Vec<PathStat>> {
    let df = ParquetReader::new(std::fs::File::open(path)?).finish()?;
    let journey = df.column("journey")?.u32()?;
    let channel = df.column("channel")?.str()?;
    let conversions = df.column("conversions")?.f64()?;
    let value = df.column("value")?.f64()?;
    let mut names: Vec<String> = Vec::new();
    let mut ids: HashMap<String, u8> = HashMap::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut totals: Vec<(Vec<u8>, f64, f64, f64)> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut last = (u32::MAX, 0.0, 0.0);
    let mut flush = |seq: &mut Vec<u8>, (_, c, v): (u32, f64, f64)| {
        if seq.is_empty() {
            return;
        }
        let i = *index.entry(seq.clone()).or_insert_with(|| {
            totals.push((seq.clone(), 0.0, 0.0, 0.0));
            totals.len() - 1
        });
        let t = &mut totals[i];
        if c > 0.0 {
            t.1 += c;
            t.2 += v;
        } else {
            t.3 += 1.0;
        }
        seq.clear();
    };
    let rows = journey
        .iter()
        .zip(channel.iter())
        .zip(conversions.iter())
        .zip(value.iter());
    for (((j, name), c), v) in rows {
        let j = j.unwrap_or(0);
        if j != last.0 {
            flush(&mut current, last);
        }
        let name = name.unwrap_or("");
        let id = match ids.get(name) {
            Some(&id) => id,
            None => {
                let id = names.len() as u8;
                names.push(name.to_string());
                ids.insert(name.to_string(), id);
                id
            }
        };
        current.push(id);
        last = (j, c.unwrap_or(0.0), v.unwrap_or(0.0));
    }
    flush(&mut current, last);
    Ok(totals
        .into_iter()
        .map(|(seq, conversions, value, nulls)| PathStat {
            channels: seq.iter().map(|&c| names[c as usize].clone()).collect(),
            conversions,
            value,
            nulls,
        })
        .collect())
}

/// Every path heuristic over the stored touches (read from Parquet, aggregated, attributed)
/// beside DuckDB's first, last and linear credits from the same file.
fn heuristics(config: &SyntheticConfig, dir: &std::path::Path) -> anyhow::Result<Row> {
    let parquet = dir.join("touches.parquet");
    let touches = write_touches(config, &parquet)?;
    let names = [
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "position_based",
    ];
    let models = names
        .iter()
        .map(|n| Model::parse(n))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let stats = read_paths(&parquet)?;
    let set = PathSet::new(&stats)?;
    let report = attribute_paths(&set, &models)?;
    let ours = started.elapsed().as_secs_f64();
    let what = format!(
        "Path heuristics ({}) over {touches} stored touches ({} journeys, Parquet): read with polars, aggregate, attribute",
        names.join(", "),
        config.journeys
    );
    let goal = "≤ DuckDB (first, last, linear; threads = 2)";
    match peer::run_json(
        "duckdb_attribution.py",
        &[parquet.to_string_lossy().as_ref()],
    ) {
        Ok(duck) => {
            let duck_secs = duck["seconds"].as_f64().unwrap_or(f64::NAN);
            // The same credits, or the comparison means nothing.
            let mut worst: f64 = 0.0;
            for (k, name) in [(0, "first_touch"), (1, "last_touch"), (3, "linear")] {
                for c in &report.results[k].credits {
                    let theirs = duck["models"][name][&c.channel][0].as_f64().unwrap_or(0.0);
                    worst = worst.max((theirs - c.conversions).abs());
                }
            }
            Ok(Row {
                what,
                result: format!(
                    "{ours:.2} s ({:.2}× DuckDB's time; credits agree within {worst:.1e} conversions)",
                    ours / duck_secs
                ),
                baseline: format!(
                    "DuckDB {} SQL (window count per journey, conditional sums) on the same file: {duck_secs:.2} s",
                    peer::duckdb_version()
                ),
                goal: goal.into(),
                verdict: Verdict::met_if(ours <= duck_secs && worst < 1e-3),
            })
        }
        Err(e) => Ok(unavailable(what, format!("{ours:.2} s"), goal, e)),
    }
}

/// Markov order 3 in a child process (`bench --child markov3`), so that its peak resident
/// set is the model's alone, not the harness's.
fn markov3_row() -> anyhow::Result<Row> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--child", "markov3"])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "markov3 child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
    let mb = v["peak_mb"].as_f64().unwrap_or(f64::NAN);
    Ok(Row {
        what: format!(
            "Exact Markov order 3, same {} paths, in its own process (peak RSS includes generating the paths)",
            v["paths"]
        ),
        result: format!(
            "{secs:.2} s, peak RSS {mb:.0} MB ({} transitions)",
            v["transitions"]
        ),
        baseline: "—".into(),
        goal: "< 10 s, < 2 GB".into(),
        verdict: Verdict::met_if(secs < 10.0 && mb < 2048.0),
    })
}

/// The child side of [`markov3_row`]: prints seconds, peak RSS and sizes as JSON.
pub fn markov3_child() -> anyhow::Result<()> {
    let stats = synthetic::paths(&SyntheticConfig::benchmark());
    let started = Instant::now();
    let set = PathSet::new(&stats)?;
    let report = attribute_paths(&set, &[markov(3)?])?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_mb = status_mb("self", "VmHWM");
    let transitions = report.results[0]
        .transition_matrix
        .as_ref()
        .map_or(0, Vec::len);
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds,
            "peak_mb": peak_mb,
            "paths": stats.len(),
            "transitions": transitions,
        })
    );
    Ok(())
}
