//! Attribution reports: every model side by side with the spread
//! between them, and that comparison as a grouped bar chart in SVG (drawn with
//! `platform::charts`).

use std::fmt::Write;

use attribution::Report;
use platform::charts::{self, Axis, LegendEntry, Nice, Plot, Swatch, escape};
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
    /// conversions, with a tooltip), a legend, and axis labels.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 10] = [
            "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac",
        ];
        let colour = |m: usize| COLOURS[m % COLOURS.len()];
        let (left, top, bottom, legend_w): (f64, f64, f64, f64) = (60.0, 30.0, 70.0, 170.0);
        let bar_w = 12.0;
        let group_gap = 24.0;
        let n_models = self.models.len().max(1) as f64;
        let group_w = bar_w * n_models + group_gap;
        let plot = Plot {
            left,
            top,
            width: (group_w * self.channels.len() as f64).max(200.0),
            height: 300.0,
        };
        let width = left + plot.width + legend_w;
        let legend_h = 20.0 + 18.0 * self.models.len() as f64;
        let height = top + plot.height.max(legend_h) + bottom;
        let max = self
            .shares
            .iter()
            .flatten()
            .copied()
            .fold(0.0_f64, f64::max);
        let x_axis = Axis::bottom(plot, (0.0, 1.0));
        let y_axis = Axis::left(plot, (0.0, nice_ceiling(max)));

        let mut s = charts::svg_open(
            width,
            height,
            11.0,
            "Attribution by model: share of conversions per channel",
        );
        // Grid lines with their labels, the axes and their titles.
        for v in y_axis.scale.ticks(4) {
            s.push_str(&y_axis.tick(v, &format!("{}%", format_percent(v))));
        }
        s.push_str(&x_axis.line());
        s.push_str(&y_axis.line());
        s.push_str(&y_axis.title("Share of conversions", left - 14.0));
        s.push_str(&x_axis.title("Channel", bottom - 10.0));
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
                let y = y_axis.map(v);
                s.push_str(&charts::bar(
                    x0 + bar_w * m as f64,
                    y,
                    bar_w,
                    plot.bottom() - y,
                    colour(m),
                    &format!("{model} · {channel}: {}%", format_percent(v)),
                ));
            }
            let _ = write!(
                s,
                r#"<text x="{x}" y="{ty}" text-anchor="middle">{}</text></g>"#,
                escape(channel),
                x = x0 + bar_w * n_models / 2.0,
                ty = plot.bottom() + 16.0
            );
        }
        // Legend.
        let entries: Vec<LegendEntry> = self
            .models
            .iter()
            .enumerate()
            .map(|(m, model)| LegendEntry {
                label: model,
                swatch: Swatch::Box(colour(m)),
            })
            .collect();
        s.push_str(&charts::legend(
            plot.right() + 20.0,
            top,
            Some("Model"),
            &entries,
        ));
        s.push_str(charts::SVG_CLOSE);
        s
    }
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `v` (1 when no
/// share is positive): the top of the share axis.
fn nice_ceiling(v: f64) -> f64 {
    Nice::WITH_QUARTERS.ceiling(v)
}

fn format_percent(share: f64) -> String {
    let p = (share * 1000.0).round() / 10.0;
    format!("{p}")
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

    #[test]
    fn the_chart_is_named_and_every_bar_has_a_tooltip() {
        let svg = Comparison::new(&report()).svg();
        assert!(svg.contains(
            r#"role="img" aria-label="Attribution by model: share of conversions per channel""#
        ));
        // The chart's own title, then one per bar: 2 channels × 3 models.
        assert_eq!(svg.matches("<title>").count(), 1 + 2 * 3);
        assert!(svg.contains("<title>linear · email: 50%</title>"));
        assert!(svg.contains("<title>first_touch · a&lt;b: 0%</title>"));
        assert!(svg.contains(r#"<g class="legend">"#) && svg.contains(">last_touch</text>"));
    }
}
