//! The report as one flat table, for CSV and Parquet.

use polars::prelude::*;

use super::{FunnelReport, MoneyFigure, Segment, Summary};

/// The part of the report a file holds (`part`): its stage table, its summary, its loss
/// reasons, or the summary of each segment (breakdown value or cohort). JSON holds them all
/// in one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Part {
    #[default]
    Stages,
    Summary,
    LossReasons,
    SegmentSummary,
}

impl Part {
    pub const NAMES: [&str; 4] = ["stages", "summary", "loss_reasons", "segment_summary"];

    pub fn parse(s: &str) -> Option<Part> {
        match s {
            "stages" => Some(Part::Stages),
            "summary" => Some(Part::Summary),
            "loss_reasons" => Some(Part::LossReasons),
            "segment_summary" => Some(Part::SegmentSummary),
            _ => None,
        }
    }

    /// The part's table of `r`.
    pub fn frame(self, r: &FunnelReport) -> PolarsResult<DataFrame> {
        match self {
            Part::Stages => frame(r),
            Part::Summary => summary_frame(r),
            Part::LossReasons => loss_reasons_frame(r),
            Part::SegmentSummary => segment_summary_frame(r),
        }
    }
}

/// Summary rows: one per currency of a summary's won deals (a single row with a null
/// currency when none was won), each with the deal counts, win rate and cycle, and that
/// currency's average deal size and sales velocity (decimal strings). Amounts in different
/// currencies are never added up.
#[derive(Default)]
struct SummaryRows {
    currency: Vec<Option<String>>,
    deals: Vec<i64>,
    open: Vec<i64>,
    won: Vec<i64>,
    lost: Vec<i64>,
    win_rate: Vec<Option<f64>>,
    average_cycle_days: Vec<Option<f64>>,
    average_deal_size: Vec<Option<String>>,
    sales_velocity_per_day: Vec<Option<String>>,
}

impl SummaryRows {
    /// Adds the rows of `s`, a summary of `deals` deals; returns how many.
    fn push(&mut self, deals: u64, s: &Summary) -> usize {
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
        let of = |figures: &[MoneyFigure], c: &Option<String>| {
            figures
                .iter()
                .find(|m| Some(&m.currency) == c.as_ref())
                .map(|m| m.amount.to_string())
        };
        let n = currencies.len();
        for c in currencies {
            self.average_deal_size.push(of(&s.average_deal_size, &c));
            self.sales_velocity_per_day
                .push(of(&s.sales_velocity_per_day, &c));
            self.currency.push(c);
            self.deals.push(deals as i64);
            self.open.push(s.open as i64);
            self.won.push(s.won as i64);
            self.lost.push(s.lost as i64);
            self.win_rate.push(s.win_rate);
            self.average_cycle_days.push(s.average_cycle_days);
        }
        n
    }

    fn columns(self) -> Vec<Column> {
        vec![
            Column::new("currency".into(), self.currency),
            Column::new("deals".into(), self.deals),
            Column::new("open".into(), self.open),
            Column::new("won".into(), self.won),
            Column::new("lost".into(), self.lost),
            Column::new("win_rate".into(), self.win_rate),
            Column::new("average_cycle_days".into(), self.average_cycle_days),
            Column::new("average_deal_size".into(), self.average_deal_size),
            Column::new("sales_velocity_per_day".into(), self.sales_velocity_per_day),
        ]
    }
}

/// The summary as a table: a row per currency (see [`SummaryRows`]).
pub fn summary_frame(r: &FunnelReport) -> PolarsResult<DataFrame> {
    let mut rows = SummaryRows::default();
    let n = rows.push(r.deals, &r.summary);
    DataFrame::new(n, rows.columns())
}

/// Each segment's summary as a table: a row per (segment, value, currency), the segment
/// being `breakdown` (a value of `breakdown`) or `cohort`, in the order of the JSON report.
pub fn segment_summary_frame(r: &FunnelReport) -> PolarsResult<DataFrame> {
    let mut rows = SummaryRows::default();
    let (mut kind, mut value) = (Vec::new(), Vec::new());
    for (k, segments) in [("breakdown", &r.breakdowns), ("cohort", &r.trends)] {
        for seg in segments {
            let n = rows.push(seg.deals, &seg.summary);
            kind.extend(std::iter::repeat_n(k, n));
            value.extend(std::iter::repeat_n(seg.value.clone(), n));
        }
    }
    let kind_len = kind.len();
    let mut columns = vec![
        Column::new("segment".into(), kind),
        Column::new("value".into(), value),
    ];
    let n = kind_len;
    columns.extend(rows.columns());
    DataFrame::new(n, columns)
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
        summary: r.summary.clone(),
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
