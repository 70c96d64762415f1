//! The report as one flat table, for CSV and Parquet.

use polars::prelude::*;

use super::{FunnelReport, Segment};

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
