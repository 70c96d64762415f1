//! The stage tables: matched rows aggregated (polars group-bys) into entered counts,
//! conversions, drop-off and timings, overall, per breakdown value and per cohort.

use std::collections::HashMap;

use polars::prelude::*;

use super::rows::{Dictionary, Rows, match_rows, steps_of};
use super::summary::summary;
use super::{
    DealFacts, FunnelReport, NONE_KEY, Params, Segment, StageStats, Summary, Timing, ratio,
};
use crate::domain::funnel::FunnelDef;

/// The report of `deals` in the funnel `def` (at `version`) under the parameters `p`.
pub fn compute(
    def: &FunnelDef,
    version: i32,
    deals: &[DealFacts],
    p: &Params,
) -> PolarsResult<FunnelReport> {
    let steps = steps_of(def);
    let index: HashMap<&str, usize> = def
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut rows = Rows::default();
    let mut keys = Dictionary::default();
    let mut cohorts = Dictionary::default();
    // Segment ids first (cheap, and they must be the same whichever thread sees a deal),
    // then the matching, which dominates, on every core.
    let segments: Vec<(u32, u32)> = deals
        .iter()
        .map(|d| {
            let key = keys.id(d.key.as_deref().unwrap_or(NONE_KEY));
            let cohort = match p.cohort {
                Some(c) => cohorts.id(&c.label(d.opened_at)),
                None => 0,
            };
            (key, cohort)
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = deals.len().div_ceil(threads).max(1);
    let parts: Vec<Rows> = std::thread::scope(|scope| {
        let handles: Vec<_> = deals
            .chunks(chunk)
            .zip(segments.chunks(chunk))
            .map(|(deals, segments)| {
                let (steps, index) = (&steps, &index);
                scope.spawn(move || match_rows(deals, segments, steps, index, p))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("matching thread"))
            .collect()
    });
    for part in parts {
        rows.append(part);
    }
    let matched = df![
        "key" => rows.key,
        "cohort" => rows.cohort,
        "step" => rows.step,
        "delta" => rows.delta,
    ]?;
    let stays = df![
        "key" => rows.stay_key,
        "step" => rows.stay_step,
        "stay" => rows.stay,
    ]?;
    let entered = |by: &[&str]| {
        per_step(
            &matched,
            by,
            [
                len().alias("entered"),
                col("delta").median().alias("median"),
                col("delta").mean().alias("mean"),
                col("delta")
                    .quantile(lit(0.9), QuantileMethod::Linear)
                    .alias("p90"),
            ],
        )
    };
    let stayed = |by: &[&str]| {
        per_step(
            &stays,
            by,
            [
                col("stay").median().alias("median"),
                col("stay").mean().alias("mean"),
            ],
        )
    };
    let overall = table(def, &entered(&[])?, Some(&stayed(&[])?), None)?;
    let (deals_per_key, deals_per_cohort) = (keys.counts(), cohorts.counts());
    // Each segment's summary, from its own deals.
    let summaries = |of: fn(&(u32, u32)) -> u32, names: &[String]| {
        let mut members: Vec<Vec<&DealFacts>> = vec![Vec::new(); names.len()];
        for (d, s) in deals.iter().zip(&segments) {
            members[of(s) as usize].push(d);
        }
        names
            .iter()
            .cloned()
            .zip(members.into_iter().map(summary))
            .collect::<HashMap<String, Summary>>()
    };
    let stages = overall
        .get("")
        .cloned()
        .unwrap_or_else(|| empty_stages(def));
    let mut breakdowns = Vec::new();
    if p.breakdown.is_some() {
        let by_key = table(
            def,
            &entered(&["key"])?,
            Some(&stayed(&["key"])?),
            Some(("key", &keys.names)),
        )?;
        let mut summary_of = summaries(|s| s.0, &keys.names);
        for (value, deals) in &deals_per_key {
            breakdowns.push(Segment {
                value: value.to_string(),
                deals: *deals,
                stages: by_key
                    .get(*value)
                    .cloned()
                    .unwrap_or_else(|| empty_stages(def)),
                summary: summary_of.remove(*value).unwrap_or_else(|| summary([])),
            });
        }
        breakdowns.sort_by(|a, b| b.deals.cmp(&a.deals).then(a.value.cmp(&b.value)));
    }
    let mut trends = Vec::new();
    if p.cohort.is_some() {
        let by_cohort = table(
            def,
            &entered(&["cohort"])?,
            None,
            Some(("cohort", &cohorts.names)),
        )?;
        let mut summary_of = summaries(|s| s.1, &cohorts.names);
        for (value, deals) in &deals_per_cohort {
            trends.push(Segment {
                value: value.to_string(),
                deals: *deals,
                stages: by_cohort
                    .get(*value)
                    .cloned()
                    .unwrap_or_else(|| empty_stages(def)),
                summary: summary_of.remove(*value).unwrap_or_else(|| summary([])),
            });
        }
    }
    Ok(FunnelReport {
        funnel_version: version,
        order: p.order.as_str().to_string(),
        window: p.window.map(|w| w.to_string()),
        breakdown: p.breakdown.clone(),
        cohort: p.cohort.map(|c| c.as_str().to_string()),
        deals: deals.len() as u64,
        stages,
        breakdowns,
        trends,
        summary: summary(deals),
    })
}

/// `df` grouped by the columns `by` and the step, aggregated with `aggs`.
fn per_step<const N: usize>(
    df: &DataFrame,
    by: &[&str],
    aggs: [Expr; N],
) -> PolarsResult<DataFrame> {
    let mut keys: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
    keys.push(col("step"));
    df.clone().lazy().group_by(keys).agg(aggs).collect()
}

fn empty_stages(def: &FunnelDef) -> Vec<StageStats> {
    finish(def, &HashMap::new(), &HashMap::new())
}

type Figures = (u64, Timing);

/// Turns aggregated frames into stage tables per segment value (`""` when not segmented).
fn table(
    def: &FunnelDef,
    entered: &DataFrame,
    stays: Option<&DataFrame>,
    by: Option<(&str, &[String])>,
) -> PolarsResult<HashMap<String, Vec<StageStats>>> {
    let mut counts: HashMap<String, HashMap<u32, Figures>> = HashMap::new();
    let keys = |df: &DataFrame| -> PolarsResult<Vec<String>> {
        Ok(match by {
            Some((c, names)) => df
                .column(c)?
                .u32()?
                .iter()
                .map(|id| id.map(|i| names[i as usize].clone()).unwrap_or_default())
                .collect(),
            None => vec![String::new(); df.height()],
        })
    };
    let f64s = |df: &DataFrame, c: &str| -> PolarsResult<Vec<Option<f64>>> {
        Ok(df
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    {
        let k = keys(entered)?;
        let step: Vec<u32> = entered.column("step")?.u32()?.into_no_null_iter().collect();
        let n: Vec<u32> = entered
            .column("entered")?
            .u32()?
            .into_no_null_iter()
            .collect();
        let (med, mean, p90) = (
            f64s(entered, "median")?,
            f64s(entered, "mean")?,
            f64s(entered, "p90")?,
        );
        for i in 0..entered.height() {
            let timing = Timing {
                median_secs: med[i],
                mean_secs: mean[i],
                p90_secs: p90[i],
            };
            counts
                .entry(k[i].clone())
                .or_default()
                .insert(step[i], (n[i] as u64, timing));
        }
    }
    let mut stay_map: HashMap<String, HashMap<u32, Timing>> = HashMap::new();
    if let Some(s) = stays {
        let k = keys(s)?;
        let step: Vec<u32> = s.column("step")?.u32()?.into_no_null_iter().collect();
        let (med, mean) = (f64s(s, "median")?, f64s(s, "mean")?);
        for i in 0..s.height() {
            stay_map.entry(k[i].clone()).or_default().insert(
                step[i],
                Timing {
                    median_secs: med[i],
                    mean_secs: mean[i],
                    p90_secs: None,
                },
            );
        }
    }
    let empty = HashMap::new();
    let mut out = HashMap::new();
    let all: std::collections::HashSet<&String> = counts.keys().chain(stay_map.keys()).collect();
    for k in all {
        let c = counts.get(k).unwrap_or(&empty);
        let s = stay_map.get(k).cloned().unwrap_or_default();
        out.insert(k.clone(), finish(def, c, &s));
    }
    Ok(out)
}

fn finish(
    def: &FunnelDef,
    counts: &HashMap<u32, Figures>,
    stays: &HashMap<u32, Timing>,
) -> Vec<StageStats> {
    let entered = |j: usize| counts.get(&(j as u32)).map_or(0, |c| c.0);
    let first = entered(0);
    let mut prev_required: Option<usize> = None;
    let mut out = Vec::with_capacity(def.stages.len());
    for (j, s) in def.stages.iter().enumerate() {
        let n = entered(j);
        let base = prev_required.map(entered);
        out.push(StageStats {
            stage: s.name.clone(),
            optional: s.optional,
            entered: n,
            conversion_from_previous: base.and_then(|b| ratio(n, b)),
            conversion_from_first: (j > 0).then(|| ratio(n, first)).flatten(),
            drop_off: base.map(|b| b.saturating_sub(n)),
            time_to_convert: counts
                .get(&(j as u32))
                .map(|c| c.1.clone())
                .filter(|_| j > 0)
                .unwrap_or_default(),
            time_in_stage: stays.get(&(j as u32)).cloned().unwrap_or_default(),
        });
        if !s.optional {
            prev_required = Some(j);
        }
    }
    out
}
