//! The funnel chart: a horizontal bar per stage, as wide as the deals that entered it, with
//! the count and the conversion from the first stage written beside it. Drawn with
//! `platform::charts`; one series, so no legend (optional stages say so in their label).

use platform::charts::{self, Scale, escape};

use super::FunnelReport;

const REQUIRED_FILL: &str = "#3182bd";
const OPTIONAL_FILL: &str = "#9ecae1";

pub fn svg(title: &str, r: &FunnelReport) -> String {
    let (width, bar_h, gap, top, left, right) = (760.0, 34.0, 12.0, 64.0, 150.0, 150.0);
    let plot = width - left - right;
    let height = top + r.stages.len() as f64 * (bar_h + gap) + 40.0;
    let max = r.stages.iter().map(|s| s.entered).max().unwrap_or(0).max(1) as f64;
    let scale = Scale::new((0.0, max), (0.0, plot));
    let label = format!(
        "Funnel chart of {title}: {} deals through {} stages",
        r.deals,
        r.stages.len()
    );
    let mut out = charts::svg_open(width, height, 13.0, &label);
    out.push('\n');
    out.push_str(charts::BACKGROUND);
    out.push_str(&format!(
        r##"
<text x="{x}" y="28" text-anchor="middle" font-size="17" font-weight="bold">{title}</text>
<text x="{x}" y="48" text-anchor="middle" fill="#555">{subtitle}</text>
"##,
        x = width / 2.0,
        title = escape(title),
        subtitle = escape(&format!(
            "{deals} deals · order {order}{window} · funnel version {version}",
            deals = r.deals,
            order = r.order,
            window = r
                .window
                .as_ref()
                .map(|w| format!(" · window {w}"))
                .unwrap_or_default(),
            version = r.funnel_version,
        )),
    ));
    for (i, s) in r.stages.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let w = scale.map(s.entered as f64).max(1.0);
        let x = left + (plot - w) / 2.0;
        let fill = if s.optional {
            OPTIONAL_FILL
        } else {
            REQUIRED_FILL
        };
        let conversion = match (i, s.conversion_from_first) {
            (0, _) => "100%".to_string(),
            (_, Some(c)) => format!("{:.1}%", c * 100.0),
            _ => "–".to_string(),
        };
        let n = s.entered;
        let tip = format!("{}: {n} deals · {conversion}", s.stage);
        out.push_str(&format!(
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{name}{opt}</text>
{bar}
<text x="{rx}" y="{ty}">{n} deals · {conversion}</text>
"##,
            lx = left - 10.0,
            ty = y + bar_h / 2.0 + 4.0,
            name = escape(&s.stage),
            opt = if s.optional { " (optional)" } else { "" },
            bar = charts::bar(x, y, w, bar_h, fill, &tip),
            rx = left + plot + 10.0,
        ));
    }
    out.push_str(&format!(
        r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#555">bar width: deals that entered the stage; percentage: conversion from the first stage</text>
{close}
"##,
        x = width / 2.0,
        y = height - 14.0,
        close = charts::SVG_CLOSE,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{StageStats, Summary, Timing};

    fn stage(name: &str, entered: u64, optional: bool, conversion: Option<f64>) -> StageStats {
        StageStats {
            stage: name.into(),
            optional,
            entered,
            conversion_from_previous: conversion,
            conversion_from_first: conversion,
            drop_off: None,
            time_to_convert: Timing::default(),
            time_in_stage: Timing::default(),
        }
    }

    fn report(deals: u64, stages: Vec<StageStats>) -> FunnelReport {
        FunnelReport {
            funnel_version: 2,
            order: "strict".into(),
            window: None,
            breakdown: None,
            cohort: None,
            deals,
            stages,
            breakdowns: vec![],
            trends: vec![],
            summary: Summary {
                open: 0,
                won: 0,
                lost: 0,
                win_rate: None,
                average_deal_size: vec![],
                average_cycle_days: None,
                sales_velocity_per_day: vec![],
                loss_reasons: vec![],
            },
        }
    }

    #[test]
    fn a_bar_per_stage_with_its_tooltip_and_an_accessible_name() {
        let report = report(
            4,
            vec![
                stage("lead", 4, false, Some(1.0)),
                stage("demo & trial", 2, true, Some(0.5)),
                stage("won", 1, false, Some(0.25)),
            ],
        );
        let svg = svg("B2B <main>", &report);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(
            r#"role="img" aria-label="Funnel chart of B2B &lt;main&gt;: 4 deals through 3 stages""#
        ));
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert_eq!(svg.matches("<title>").count(), 1 + 3);
        assert!(svg.contains("<title>demo &amp; trial: 2 deals · 50.0%</title>"));
        assert!(svg.contains(">demo &amp; trial (optional)<"));
        // The widest bar fills the 460 pixel plot; the last is a quarter of it, centred.
        assert!(svg.contains(r#"<rect x="150.0" y="64.0" width="460.0" height="34.0""#));
        assert!(svg.contains(r#"<rect x="322.5" y="156.0" width="115.0" height="34.0""#));
        assert!(svg.contains(">1 deals · 25.0%<") && !svg.contains("NaN"));
    }

    #[test]
    fn no_stages_and_no_deals_still_draw() {
        let svg = svg("empty", &report(0, vec![]));
        assert!(svg.contains("0 deals") && !svg.contains("NaN") && !svg.contains("inf"));
    }
}
