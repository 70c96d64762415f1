//! Attribution reports: every model side by side with the spread
//! between them, and that comparison as a grouped bar chart in SVG.

use std::fmt::Write;

use attribution::Report;
use polars::prelude::*;

/// Every model's share of the conversions by channel, side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub models: Vec<String>,
    pub channels: Vec<String>,
    /// `shares[channel][model]`: the model's conversion credit for the channel over all
    /// conversions (0 when there are none).
    pub shares: Vec<Vec<f64>>,
    /// `conversions[channel][model]`: the credit itself.
    pub conversions: Vec<Vec<f64>>,
}

impl Comparison {
    pub fn new(report: &Report) -> Comparison {
        let models: Vec<String> = report
            .results
            .iter()
            .map(|r| match r.order {
                Some(o) if o > 1 => format!("{}_{o}", r.model),
                _ => r.model.to_string(),
            })
            .collect();
        let mut channels: Vec<String> = report
            .results
            .iter()
            .flat_map(|r| r.credits.iter().map(|c| c.channel.clone()))
            .collect();
        channels.sort();
        channels.dedup();
        let total = report.total_conversions;
        let credit = |ch: &str, m: usize| {
            report.results[m]
                .credits
                .iter()
                .find(|c| c.channel == ch)
                .map_or(0.0, |c| c.conversions)
        };
        let conversions: Vec<Vec<f64>> = channels
            .iter()
            .map(|ch| (0..models.len()).map(|m| credit(ch, m)).collect())
            .collect();
        let shares = conversions
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| if total > 0.0 { c / total } else { 0.0 })
                    .collect()
            })
            .collect();
        Comparison {
            models,
            channels,
            shares,
            conversions,
        }
    }

    /// Max minus min share of a channel across models.
    pub fn spread(&self, channel: usize) -> f64 {
        let row = &self.shares[channel];
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = row.iter().copied().fold(f64::INFINITY, f64::min);
        if row.is_empty() { 0.0 } else { max - min }
    }

    /// `channel`, then per model `<model>_conversions` and `<model>_share`, then `spread`.
    pub fn frame(&self) -> PolarsResult<DataFrame> {
        let mut columns = vec![Column::new("channel".into(), self.channels.clone())];
        for (m, name) in self.models.iter().enumerate() {
            let conv: Vec<f64> = self.conversions.iter().map(|r| r[m]).collect();
            let share: Vec<f64> = self.shares.iter().map(|r| r[m]).collect();
            columns.push(Column::new(format!("{name}_conversions").into(), conv));
            columns.push(Column::new(format!("{name}_share").into(), share));
        }
        let spread: Vec<f64> = (0..self.channels.len()).map(|c| self.spread(c)).collect();
        columns.push(Column::new("spread".into(), spread));
        DataFrame::new(self.channels.len(), columns)
    }

    /// A grouped bar chart: one group per channel, one bar per model (its share of the
    /// conversions), a legend, and axis labels.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 10] = [
            "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac",
        ];
        let (left, top, bottom, legend_w): (f64, f64, f64, f64) = (60.0, 30.0, 70.0, 170.0);
        let bar_w = 12.0;
        let group_gap = 24.0;
        let n_models = self.models.len().max(1) as f64;
        let group_w = bar_w * n_models + group_gap;
        let plot_w = (group_w * self.channels.len() as f64).max(200.0);
        let plot_h: f64 = 300.0;
        let width = left + plot_w + legend_w;
        let legend_h = 20.0 + 18.0 * self.models.len() as f64;
        let height = top + plot_h.max(legend_h) + bottom;
        let max = self
            .shares
            .iter()
            .flatten()
            .copied()
            .fold(0.0_f64, f64::max);
        let max = if max > 0.0 { nice_ceiling(max) } else { 1.0 };
        let y = |v: f64| top + plot_h - v / max * plot_h;

        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
        );
        s.push_str("<title>Attribution by model: share of conversions per channel</title>");
        // Axes and ticks.
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{b}" stroke="#333"/><line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/>"##,
            b = top + plot_h,
            r = left + plot_w
        );
        for i in 0..=4 {
            let v = max * f64::from(i) / 4.0;
            let _ = write!(
                s,
                r##"<text x="{x}" y="{ty}" text-anchor="end">{label}%</text><line x1="{left}" y1="{ly}" x2="{r}" y2="{ly}" stroke="#ddd"/>"##,
                x = left - 6.0,
                ty = y(v) + 4.0,
                label = format_percent(v),
                ly = y(v),
                r = left + plot_w
            );
        }
        let _ = write!(
            s,
            r#"<text x="14" y="{cy}" text-anchor="middle" transform="rotate(-90 14 {cy})">Share of conversions</text>"#,
            cy = top + plot_h / 2.0
        );
        let _ = write!(
            s,
            r#"<text x="{cx}" y="{ty}" text-anchor="middle">Channel</text>"#,
            cx = left + plot_w / 2.0,
            ty = top + plot_h + bottom - 10.0
        );
        // Bars, one group per channel.
        for (c, channel) in self.channels.iter().enumerate() {
            let x0 = left + group_gap / 2.0 + group_w * c as f64;
            let _ = write!(
                s,
                r#"<g class="channel" data-channel="{}">"#,
                escape(channel)
            );
            for (m, model) in self.models.iter().enumerate() {
                let v = self.shares[c][m];
                let _ = write!(
                    s,
                    r#"<rect x="{x}" y="{ry}" width="{bar_w}" height="{h}" fill="{fill}"><title>{model} · {ch}: {p}%</title></rect>"#,
                    x = x0 + bar_w * m as f64,
                    ry = y(v),
                    h = top + plot_h - y(v),
                    fill = COLOURS[m % COLOURS.len()],
                    model = escape(model),
                    ch = escape(channel),
                    p = format_percent(v)
                );
            }
            let _ = write!(
                s,
                r#"<text x="{x}" y="{ty}" text-anchor="middle">{}</text></g>"#,
                escape(channel),
                x = x0 + bar_w * n_models / 2.0,
                ty = top + plot_h + 16.0
            );
        }
        // Legend.
        let lx = left + plot_w + 20.0;
        let _ = write!(
            s,
            r#"<g class="legend"><text x="{lx}" y="{top}" font-weight="bold">Model</text>"#
        );
        for (m, model) in self.models.iter().enumerate() {
            let ly = top + 12.0 + 18.0 * m as f64;
            let _ = write!(
                s,
                r#"<rect x="{lx}" y="{ly}" width="12" height="12" fill="{fill}"/><text x="{tx}" y="{ty}">{}</text>"#,
                escape(model),
                fill = COLOURS[m % COLOURS.len()],
                tx = lx + 18.0,
                ty = ly + 10.0
            );
        }
        s.push_str("</g></svg>");
        s
    }
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|k| k * p)
        .find(|c| *c >= v * (1.0 - 1e-12))
        .unwrap_or(v)
}

fn format_percent(share: f64) -> String {
    let p = (share * 1000.0).round() / 10.0;
    format!("{p}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use attribution::{Model, PathSet, PathStat, attribute_paths};

    fn report() -> Report {
        let paths = PathSet::new(&[
            PathStat {
                channels: vec!["email".into(), "a<b".into()],
                conversions: 2.0,
                value: 100.0,
                nulls: 1.0,
            },
            PathStat {
                channels: vec!["a<b".into()],
                conversions: 0.0,
                value: 0.0,
                nulls: 3.0,
            },
        ])
        .unwrap();
        attribute_paths(
            &paths,
            &[Model::FirstTouch, Model::LastTouch, Model::Linear],
        )
        .unwrap()
    }

    #[test]
    fn comparison_by_hand() {
        let c = Comparison::new(&report());
        assert_eq!(c.channels, ["a<b", "email"]);
        assert_eq!(c.models, ["first_touch", "last_touch", "linear"]);
        assert_eq!(c.shares[1], [1.0, 0.0, 0.5]);
        assert_eq!(c.spread(0), 1.0);
        let df = c.frame().unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.width(), 1 + 3 * 2 + 1);
        let svg = c.svg();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("a&lt;b"));
        assert_eq!(svg.matches("<rect").count(), 2 * 3 + 3);
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.37), 0.5);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(0.21), 0.25);
    }
}
