//! The funnel chart: a horizontal bar per stage, as wide as the deals that entered it, with
//! the count and the conversion from the first stage written beside it. Hand-written SVG.

use super::FunnelReport;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn svg(title: &str, r: &FunnelReport) -> String {
    let (width, bar_h, gap, top, left, right) = (760.0, 34.0, 12.0, 64.0, 150.0, 150.0);
    let plot = width - left - right;
    let height = top + r.stages.len() as f64 * (bar_h + gap) + 40.0;
    let max = r.stages.iter().map(|s| s.entered).max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{x}" y="28" text-anchor="middle" font-size="17" font-weight="bold">{title}</text>
<text x="{x}" y="48" text-anchor="middle" fill="#555">{deals} deals · order {order}{window} · funnel version {version}</text>
"##,
        x = width / 2.0,
        title = escape(title),
        deals = r.deals,
        order = r.order,
        window = r
            .window
            .as_ref()
            .map(|w| format!(" · window {w}"))
            .unwrap_or_default(),
        version = r.funnel_version,
    );
    for (i, s) in r.stages.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let w = (s.entered as f64 / max * plot).max(1.0);
        let x = left + (plot - w) / 2.0;
        let fill = if s.optional { "#9ecae1" } else { "#3182bd" };
        let conversion = match (i, s.conversion_from_first) {
            (0, _) => "100%".to_string(),
            (_, Some(c)) => format!("{:.1}%", c * 100.0),
            _ => "–".to_string(),
        };
        out.push_str(&format!(
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{name}{opt}</text>
<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bar_h}" fill="{fill}"><title>{name}: {n} deals</title></rect>
<text x="{rx}" y="{ty}">{n} deals · {conversion}</text>
"##,
            lx = left - 10.0,
            ty = y + bar_h / 2.0 + 4.0,
            name = escape(&s.stage),
            opt = if s.optional { " (optional)" } else { "" },
            rx = left + plot + 10.0,
            n = s.entered,
        ));
    }
    out.push_str(&format!(
        r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#555">bar width: deals that entered the stage; percentage: conversion from the first stage</text>
</svg>
"##,
        x = width / 2.0,
        y = height - 14.0
    ));
    out
}
