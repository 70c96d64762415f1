//! The funnel report: per-stage conversion, drop-off and timing, by breakdown and by cohort,
//! plus win rate, deal size, cycle length, sales velocity and loss reasons.
//!
//! Pure: deals and their moves in, a `FunnelReport` out. Which steps a deal completed comes
//! from `domain::matching`; the per-stage aggregates (counts, mean, median, p90) are polars
//! group-bys; money is summed with rust_decimal.

pub mod chart;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, Utc};
use polars::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::funnel::{FunnelDef, Span};
use crate::domain::log::Status;
use crate::domain::matching::{Event, Order, Step, best_match};

/// Deal attributes a report can break down by.
pub const BREAKDOWNS: [&str; 5] = ["source", "campaign", "channel", "owner", "segment"];

/// Value of a breakdown for deals that lack the attribute.
pub const NONE_KEY: &str = "(none)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    Week,
    Month,
}

impl Cohort {
    pub fn parse(s: &str) -> Result<Cohort, String> {
        match s {
            "week" => Ok(Cohort::Week),
            "month" => Ok(Cohort::Month),
            _ => Err("must be week or month".into()),
        }
    }

    /// The cohort a deal opened at `t` belongs to: the Monday of its ISO week, or its month.
    pub fn label(self, t: DateTime<Utc>) -> String {
        let d = t.date_naive();
        match self {
            Cohort::Week => {
                (d - Duration::days(d.weekday().num_days_from_monday() as i64)).to_string()
            }
            Cohort::Month => format!("{:04}-{:02}", d.year(), d.month()),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Cohort::Week => "week",
            Cohort::Month => "month",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    pub order: Order,
    pub window: Option<Span>,
    pub breakdown: Option<String>,
    pub cohort: Option<Cohort>,
}

/// One deal as the report sees it. `moves` are (stage, time) in effect order.
#[derive(Debug, Clone)]
pub struct DealFacts {
    pub key: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub status: Status,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub moves: Vec<(String, DateTime<Utc>)>,
}

/// Seconds statistics; null when no deal contributed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Timing {
    pub median_secs: Option<f64>,
    pub mean_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StageStats {
    pub stage: String,
    pub optional: bool,
    /// Deals whose best match includes this step.
    pub entered: u64,
    /// `entered` over the previous required step's `entered`.
    pub conversion_from_previous: Option<f64>,
    /// `entered` over the first step's `entered`.
    pub conversion_from_first: Option<f64>,
    /// Deals of the previous required step that did not enter this one.
    pub drop_off: Option<u64>,
    /// Time from the previous matched step (median, mean, p90 with linear interpolation).
    pub time_to_convert: Timing,
    /// Completed stays in this stage, from any deal's log (median and mean).
    pub time_in_stage: Timing,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Segment {
    pub value: String,
    pub deals: u64,
    pub stages: Vec<StageStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MoneyFigure {
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LossReason {
    pub reason: String,
    pub deals: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    pub open: u64,
    pub won: u64,
    pub lost: u64,
    /// won / (won + lost).
    pub win_rate: Option<f64>,
    /// Mean amount of won deals, per currency, to the cent.
    pub average_deal_size: Vec<MoneyFigure>,
    /// Mean days from open to win.
    pub average_cycle_days: Option<f64>,
    /// open × win rate × average deal size ÷ average cycle days: expected revenue per day.
    pub sales_velocity_per_day: Vec<MoneyFigure>,
    pub loss_reasons: Vec<LossReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FunnelReport {
    pub funnel_version: i32,
    pub order: String,
    pub window: Option<String>,
    pub breakdown: Option<String>,
    pub cohort: Option<String>,
    pub deals: u64,
    pub stages: Vec<StageStats>,
    /// Per breakdown value, when `breakdown` is given, most deals first.
    pub breakdowns: Vec<Segment>,
    /// Per cohort of the deals' open date, oldest first, when `cohort` is given.
    pub trends: Vec<Segment>,
    pub summary: Summary,
}

fn steps_of(def: &FunnelDef) -> Vec<Step> {
    def.stages
        .iter()
        .map(|s| Step {
            optional: s.optional,
            window: s.window.map(Span::secs),
            min_gap: s.min_gap.map(Span::secs),
        })
        .collect()
}

/// Rows for the polars aggregation: one per (deal, matched step) and one per completed stay.
#[derive(Default)]
struct Rows {
    key: Vec<u32>,
    cohort: Vec<u32>,
    step: Vec<u32>,
    delta: Vec<Option<f64>>,
    stay_key: Vec<u32>,
    stay_step: Vec<u32>,
    stay: Vec<f64>,
}

/// Segment values as small integers, so that millions of rows carry no strings and the
/// group-bys hash integers; `deals` counts the deals of each value.
#[derive(Default)]
struct Dictionary {
    ids: HashMap<String, u32>,
    names: Vec<String>,
    deals: Vec<u64>,
}

impl Dictionary {
    fn id(&mut self, name: &str) -> u32 {
        let id = match self.ids.get(name) {
            Some(id) => *id,
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(name.to_string(), id);
                self.names.push(name.to_string());
                self.deals.push(0);
                id
            }
        };
        self.deals[id as usize] += 1;
        id
    }

    /// (value, deals), by value.
    fn counts(&self) -> BTreeMap<&str, u64> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.deals.iter().copied())
            .collect()
    }
}

impl Rows {
    fn append(&mut self, mut other: Rows) {
        self.key.append(&mut other.key);
        self.cohort.append(&mut other.cohort);
        self.step.append(&mut other.step);
        self.delta.append(&mut other.delta);
        self.stay_key.append(&mut other.stay_key);
        self.stay_step.append(&mut other.stay_step);
        self.stay.append(&mut other.stay);
    }
}

/// Matches each deal and emits its rows: one per matched step and one per completed stay.
fn match_rows(
    deals: &[DealFacts],
    segments: &[(u32, u32)],
    steps: &[Step],
    index: &HashMap<&str, usize>,
    p: &Params,
) -> Rows {
    let mut rows = Rows::default();
    let mut events = Vec::new();
    for (d, &(key, cohort)) in deals.iter().zip(segments) {
        events.clear();
        events.extend(d.moves.iter().map(|(s, at)| Event {
            step: index.get(s.as_str()).copied(),
            at: at.timestamp(),
        }));
        for w in events.windows(2) {
            if let Some(s) = w[0].step {
                rows.stay_key.push(key);
                rows.stay_step.push(s as u32);
                rows.stay.push((w[1].at - w[0].at) as f64);
            }
        }
        let Some(m) = best_match(steps, &events, p.order, p.window.map(Span::secs)) else {
            continue;
        };
        let mut prev: Option<i64> = None;
        for (j, e) in m.iter().enumerate() {
            let Some(e) = e else { continue };
            let at = events[*e].at;
            rows.key.push(key);
            rows.cohort.push(cohort);
            rows.step.push(j as u32);
            rows.delta.push(prev.map(|t| (at - t) as f64));
            prev = Some(at);
        }
    }
    rows
}

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
    let entered = |by: &[&str]| -> PolarsResult<DataFrame> {
        let mut keys: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        keys.push(col("step"));
        matched
            .clone()
            .lazy()
            .group_by(keys)
            .agg([
                len().alias("entered"),
                col("delta").median().alias("median"),
                col("delta").mean().alias("mean"),
                col("delta")
                    .quantile(lit(0.9), QuantileMethod::Linear)
                    .alias("p90"),
            ])
            .collect()
    };
    let stayed = |by: &[&str]| -> PolarsResult<DataFrame> {
        let mut keys: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        keys.push(col("step"));
        stays
            .clone()
            .lazy()
            .group_by(keys)
            .agg([
                col("stay").median().alias("median"),
                col("stay").mean().alias("mean"),
            ])
            .collect()
    };
    let overall = table(def, &entered(&[])?, Some(&stayed(&[])?), None)?;
    let (deals_per_key, deals_per_cohort) = (keys.counts(), cohorts.counts());
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
        for (value, deals) in &deals_per_key {
            breakdowns.push(Segment {
                value: value.to_string(),
                deals: *deals,
                stages: by_key
                    .get(*value)
                    .cloned()
                    .unwrap_or_else(|| empty_stages(def)),
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
        for (value, deals) in &deals_per_cohort {
            trends.push(Segment {
                value: value.to_string(),
                deals: *deals,
                stages: by_cohort
                    .get(*value)
                    .cloned()
                    .unwrap_or_else(|| empty_stages(def)),
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

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
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

/// Money to the cent, half away from zero, always with two decimals.
fn cents(d: Decimal) -> Decimal {
    let mut d = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    d
}

fn summary(deals: &[DealFacts]) -> Summary {
    let (mut open, mut won, mut lost) = (0u64, 0u64, 0u64);
    let mut won_amounts: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    let (mut cycle_secs, mut cycles) = (0i64, 0i64);
    let mut reasons: HashMap<String, u64> = HashMap::new();
    for d in deals {
        match d.status {
            Status::Open => open += 1,
            Status::Won => {
                won += 1;
                if let (Some(a), Some(c)) = (d.amount, &d.currency) {
                    let e = won_amounts.entry(c.clone()).or_insert((Decimal::ZERO, 0));
                    e.0 += a;
                    e.1 += 1;
                }
                if let Some(c) = d.closed_at {
                    cycle_secs += (c - d.opened_at).num_seconds();
                    cycles += 1;
                }
            }
            Status::Lost => {
                lost += 1;
                let r = d
                    .close_reason
                    .clone()
                    .unwrap_or_else(|| NONE_KEY.to_string());
                *reasons.entry(r).or_default() += 1;
            }
        }
    }
    let average_deal_size: Vec<MoneyFigure> = won_amounts
        .iter()
        .map(|(c, (sum, n))| MoneyFigure {
            currency: c.clone(),
            amount: cents(*sum / Decimal::from(*n)),
        })
        .collect();
    // Exact: open × (won / closed) × average ÷ (cycle seconds / cycles / 86400).
    let velocity = if cycles > 0 && cycle_secs > 0 && won + lost > 0 {
        won_amounts
            .iter()
            .map(|(c, (sum, n))| MoneyFigure {
                currency: c.clone(),
                amount: cents(
                    Decimal::from(open) * Decimal::from(won) * *sum
                        / Decimal::from(*n)
                        / Decimal::from(won + lost)
                        * Decimal::from(cycles)
                        * Decimal::from(86_400)
                        / Decimal::from(cycle_secs),
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut loss_reasons: Vec<LossReason> = reasons
        .into_iter()
        .map(|(reason, deals)| LossReason { reason, deals })
        .collect();
    loss_reasons.sort_by(|a, b| b.deals.cmp(&a.deals).then(a.reason.cmp(&b.reason)));
    Summary {
        open,
        won,
        lost,
        win_rate: ratio(won, won + lost),
        average_deal_size,
        average_cycle_days: (cycles > 0).then(|| cycle_secs as f64 / cycles as f64 / 86_400.0),
        sales_velocity_per_day: velocity,
        loss_reasons,
    }
}

/// The report as one flat table for CSV and Parquet: a row per (segment, stage), where the
/// segment is `all`, a breakdown value or a cohort.
pub fn frame(r: &FunnelReport) -> PolarsResult<DataFrame> {
    let mut kind = Vec::new();
    let mut value = Vec::new();
    let mut stage = Vec::new();
    let mut entered = Vec::new();
    let mut conv_prev = Vec::new();
    let mut conv_first = Vec::new();
    let mut drop = Vec::new();
    let (mut ttc_med, mut ttc_mean, mut ttc_p90) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tis_med, mut tis_mean) = (Vec::new(), Vec::new());
    let all = [Segment {
        value: String::new(),
        deals: r.deals,
        stages: r.stages.clone(),
    }];
    let groups: [(&str, &[Segment]); 3] = [
        ("all", &all),
        ("breakdown", &r.breakdowns),
        ("cohort", &r.trends),
    ];
    for (k, segments) in groups {
        for seg in segments {
            for s in &seg.stages {
                kind.push(k);
                value.push((k != "all").then(|| seg.value.clone()));
                stage.push(s.stage.clone());
                entered.push(s.entered);
                conv_prev.push(s.conversion_from_previous);
                conv_first.push(s.conversion_from_first);
                drop.push(s.drop_off);
                ttc_med.push(s.time_to_convert.median_secs);
                ttc_mean.push(s.time_to_convert.mean_secs);
                ttc_p90.push(s.time_to_convert.p90_secs);
                tis_med.push(s.time_in_stage.median_secs);
                tis_mean.push(s.time_in_stage.mean_secs);
            }
        }
    }
    df![
        "segment" => kind,
        "value" => value,
        "stage" => stage,
        "entered" => entered,
        "conversion_from_previous" => conv_prev,
        "conversion_from_first" => conv_first,
        "drop_off" => drop,
        "time_to_convert_median_secs" => ttc_med,
        "time_to_convert_mean_secs" => ttc_mean,
        "time_to_convert_p90_secs" => ttc_p90,
        "time_in_stage_median_secs" => tis_med,
        "time_in_stage_mean_secs" => tis_mean,
    ]
}
