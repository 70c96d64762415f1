//! The report as one flat table, for CSV and Parquet.

use polars::prelude::*;

use super::{FunnelReport, Segment};

/// The part of the report a file holds (`part`): its stage table, its summary, or its loss
/// reasons. JSON holds all three in one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Part {
    #[default]
    Stages,
    Summary,
    LossReasons,
}

impl Part {
    pub const NAMES: [&str; 3] = ["stages", "summary", "loss_reasons"];

    pub fn parse(s: &str) -> Option<Part> {
        match s {
            "stages" => Some(Part::Stages),
            "summary" => Some(Part::Summary),
            "loss_reasons" => Some(Part::LossReasons),
            _ => None,
        }
    }

    /// The part's table of `r`.
    pub fn frame(self, r: &FunnelReport) -> PolarsResult<DataFrame> {
        match self {
            Part::Stages => frame(r),
            Part::Summary => summary_frame(r),
            Part::LossReasons => loss_reasons_frame(r),
        }
    }
}

/// The summary as a table: one row per currency of the won deals (a single row with a null
/// currency when none was won), each with the deal counts, win rate and cycle, and that
/// currency's average deal size and sales velocity (decimal strings).
pub fn summary_frame(r: &FunnelReport) -> PolarsResult<DataFrame> {
    let s = &r.summary;
    let mut currencies: Vec<Option<String>> = s
        .average_deal_size
        .iter()
        .chain(&s.sales_velocity_per_day)
        .map(|m| Some(m.currency.clone()))
        .collect();
    currencies.sort();
    currencies.dedup();
    if currencies.is_empty() {
        currencies.push(None);
    }
    let of = |figures: &[super::MoneyFigure], c: &Option<String>| {
        figures
            .iter()
            .find(|m| Some(&m.currency) == c.as_ref())
            .map(|m| m.amount.to_string())
    };
    let n = currencies.len();
    df![
        "currency" => currencies.clone(),
        "deals" => vec![r.deals as i64; n],
        "open" => vec![s.open as i64; n],
        "won" => vec![s.won as i64; n],
        "lost" => vec![s.lost as i64; n],
        "win_rate" => vec![s.win_rate; n],
        "average_cycle_days" => vec![s.average_cycle_days; n],
        "average_deal_size" => currencies.iter().map(|c| of(&s.average_deal_size, c)).collect::<Vec<_>>(),
        "sales_velocity_per_day" => currencies.iter().map(|c| of(&s.sales_velocity_per_day, c)).collect::<Vec<_>>(),
    ]
}

/// The lost deals by reason, most first.
pub fn loss_reasons_frame(r: &FunnelReport) -> PolarsResult<DataFrame> {
    let reasons = &r.summary.loss_reasons;
    df![
        "reason" => reasons.iter().map(|l| l.reason.clone()).collect::<Vec<_>>(),
        "deals" => reasons.iter().map(|l| l.deals as i64).collect::<Vec<_>>(),
    ]
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
