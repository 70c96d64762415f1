//! The pieces of a hand-written SVG chart that every service's chart shares: escaping, an
//! accessible `<svg>` header, "nice" axis maxima, linear scales, axes with grid lines and
//! labels, legends, bars and `<title>` tooltips.
//!
//! Pure string building with `std` only (no HTTP, no database), so a service's pure
//! `domain/` may draw with it. Coordinates are written with one decimal.

use std::fmt::Write;

/// `s` made safe for SVG text and attribute values: `&`, `<`, `>`, `"` and `'`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The opening `<svg>` of a `width` × `height` chart, announced to assistive technology as
/// an image named `label` (`role="img"`, `aria-label`, and a `<title>` browsers show).
pub fn svg_open(width: f64, height: f64, font_size: f64, label: &str) -> String {
    let label = escape(label);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{font_size}" role="img" aria-label="{label}"><title>{label}</title>"#
    )
}

/// Closes [`svg_open`].
pub const SVG_CLOSE: &str = "</svg>";

/// A white background over the whole chart.
pub const BACKGROUND: &str = r##"<rect width="100%" height="100%" fill="#ffffff"/>"##;

/// A tooltip: the `<title>` child of the element it describes.
pub fn tooltip(text: &str) -> String {
    format!("<title>{}</title>", escape(text))
}

/// A filled rectangle with its tooltip.
pub fn bar(x: f64, y: f64, width: f64, height: f64, fill: &str, tip: &str) -> String {
    format!(
        r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}" fill="{fill}">{}</rect>"#,
        tooltip(tip)
    )
}

/// The `points` attribute of a polyline or polygon: `x,y x,y …`.
pub fn points(pts: &[(f64, f64)]) -> String {
    let mut out = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(out, "{sep}{x:.1},{y:.1}");
    }
    out
}

/// `number`, a plain decimal such as `1234567.5` or `-1000`, with the digits of its whole
/// part grouped by thousands: `1,234,567.5`, `-1,000`.
pub fn thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", number),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (rest, None),
    };
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Which numbers an axis may end at: the given multiples of a power of ten.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nice(&'static [f64]);

impl Nice {
    /// 1, 2 and 5 times a power of ten: …, 0.5, 1, 2, 5, 10, 20, 50, …
    pub const ONE_TWO_FIVE: Nice = Nice(&[1.0, 2.0, 5.0]);
    /// 1, 2, 2.5 and 5 times a power of ten: finer, so a share of 0.21 ends at 0.25.
    pub const WITH_QUARTERS: Nice = Nice(&[1.0, 2.0, 2.5, 5.0]);

    /// The nice numbers in ascending order, from a decade below `v` (so a caller comparing
    /// them with an exact value that `v` rounds never misses the first one at or above it),
    /// until they overflow `f64`. Each is the closest `f64` to its decimal value.
    pub fn candidates(self, v: f64) -> impl Iterator<Item = f64> {
        let start = if v > 0.0 && v.is_finite() {
            v.log10().floor() as i32 - 1
        } else {
            0
        };
        (start..=309)
            .flat_map(move |e| self.0.iter().map(move |m| times_ten_to(*m, e)))
            .take_while(|c| c.is_finite())
    }

    /// The smallest nice number at or above `v` (within a relative 1e-12, so float noise
    /// such as 0.30000000000000004 does not climb a step); 1 when `v` is not a positive
    /// finite number.
    pub fn ceiling(self, v: f64) -> f64 {
        if !(v > 0.0 && v.is_finite()) {
            return 1.0;
        }
        self.candidates(v)
            .find(|c| *c >= v * (1.0 - 1e-12))
            .unwrap_or(v)
    }
}

/// `m × 10^e`, exact where the result is representable (powers of ten up to 10^22 are).
fn times_ten_to(m: f64, e: i32) -> f64 {
    if e >= 0 {
        m * 10f64.powi(e)
    } else {
        m / 10f64.powi(-e)
    }
}

/// A linear map from data values (`domain`) to pixels (`range`). The range may run
/// backwards, as a y axis does (bottom to top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale { domain, range }
    }

    /// The pixel of `v`; the start of the range when the domain is empty.
    pub fn map(&self, v: f64) -> f64 {
        let ((d0, d1), (r0, r1)) = (self.domain, self.range);
        if d1 == d0 {
            return r0;
        }
        r0 + (v - d0) / (d1 - d0) * (r1 - r0)
    }

    /// `n + 1` evenly spaced values from the start of the domain to its end.
    pub fn ticks(&self, n: u32) -> Vec<f64> {
        let (d0, d1) = self.domain;
        let n = n.max(1);
        (0..=n)
            .map(|i| d0 + (d1 - d0) * f64::from(i) / f64::from(n))
            .collect()
    }
}

/// The plotting area inside a chart's margins, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Plot {
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// `domain` across the plot, left to right.
    pub fn x_scale(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.left, self.right()))
    }

    /// `domain` up the plot, bottom to top.
    pub fn y_scale(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.bottom(), self.top))
    }
}

/// Where an axis sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Bottom,
    Left,
}

const AXIS_STROKE: &str = "#333333";
const GRID_STROKE: &str = "#eeeeee";

/// An axis along one side of a plot: its line (`class="axis"`), grid lines with labels, and
/// its title.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub side: Side,
    pub plot: Plot,
    pub scale: Scale,
}

impl Axis {
    /// The x axis under `plot`, for values in `domain`.
    pub fn bottom(plot: Plot, domain: (f64, f64)) -> Axis {
        Axis {
            side: Side::Bottom,
            plot,
            scale: plot.x_scale(domain),
        }
    }

    /// The y axis left of `plot`, for values in `domain`.
    pub fn left(plot: Plot, domain: (f64, f64)) -> Axis {
        Axis {
            side: Side::Left,
            plot,
            scale: plot.y_scale(domain),
        }
    }

    /// The pixel of `v` along the axis.
    pub fn map(&self, v: f64) -> f64 {
        self.scale.map(v)
    }

    /// The axis line.
    pub fn line(&self) -> String {
        let p = &self.plot;
        let (x1, y1, x2, y2) = match self.side {
            Side::Bottom => (p.left, p.bottom(), p.right(), p.bottom()),
            Side::Left => (p.left, p.top, p.left, p.bottom()),
        };
        format!(
            r#"<line class="axis" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{AXIS_STROKE}"/>"#
        )
    }

    /// A grid line across the plot at `value`, and `label` outside the plot beside it.
    pub fn tick(&self, value: f64, label: &str) -> String {
        let p = &self.plot;
        let at = self.map(value);
        let label = escape(label);
        match self.side {
            Side::Bottom => format!(
                r#"<line x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}" stroke="{GRID_STROKE}"/><text x="{at:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
                p.top,
                p.bottom(),
                p.bottom() + 18.0
            ),
            Side::Left => format!(
                r#"<line x1="{:.1}" y1="{at:.1}" x2="{:.1}" y2="{at:.1}" stroke="{GRID_STROKE}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
                p.left,
                p.right(),
                p.left - 8.0,
                at + 4.0
            ),
        }
    }

    /// The axis title, centred along the axis, `offset` pixels outside the plot (turned to
    /// read upwards on a left axis).
    pub fn title(&self, text: &str, offset: f64) -> String {
        let p = &self.plot;
        let text = escape(text);
        match self.side {
            Side::Bottom => format!(
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{text}</text>"#,
                p.left + p.width / 2.0,
                p.bottom() + offset
            ),
            Side::Left => format!(
                r#"<text transform="translate({:.1} {:.1}) rotate(-90)" text-anchor="middle">{text}</text>"#,
                p.left - offset,
                p.top + p.height / 2.0
            ),
        }
    }
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch<'a> {
    /// A filled 12 × 12 square, for bars and areas.
    Box(&'a str),
    /// A 24 pixel stroke, dashed by `dash` (a `stroke-dasharray`) when given, for lines.
    Line {
        colour: &'a str,
        dash: Option<&'a str>,
    },
}

/// One series in a legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegendEntry<'a> {
    pub label: &'a str,
    pub swatch: Swatch<'a>,
}

/// A legend in `<g class="legend">`: the bold `heading` when given, its baseline at `y`,
/// then one 18 pixel row per entry (starting at `y`, or 12 pixels lower under a heading).
pub fn legend(x: f64, y: f64, heading: Option<&str>, entries: &[LegendEntry]) -> String {
    let mut s = String::from(r#"<g class="legend">"#);
    let mut row = y;
    if let Some(heading) = heading {
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{y:.1}" font-weight="bold">{}</text>"#,
            escape(heading)
        );
        row += 12.0;
    }
    for entry in entries {
        let text_x = match entry.swatch {
            Swatch::Box(fill) => {
                let _ = write!(
                    s,
                    r#"<rect x="{x:.1}" y="{row:.1}" width="12" height="12" fill="{fill}"/>"#
                );
                x + 18.0
            }
            Swatch::Line { colour, dash } => {
                let dash = dash
                    .map(|d| format!(r#" stroke-dasharray="{d}""#))
                    .unwrap_or_default();
                let _ = write!(
                    s,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{dash}/>"#,
                    row + 6.0,
                    x + 24.0,
                    row + 6.0
                );
                x + 30.0
            }
        };
        let _ = write!(
            s,
            r#"<text x="{text_x:.1}" y="{:.1}">{}</text>"#,
            row + 10.0,
            escape(entry.label)
        );
        row += 18.0;
    }
    s.push_str("</g>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_the_five_markup_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("plain · text"), "plain · text");
        // Escaped once only: an entity written by the caller is escaped again.
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn ceilings_by_hand() {
        let (one_two_five, quarters) = (Nice::ONE_TWO_FIVE, Nice::WITH_QUARTERS);
        for (nice, v, ceiling) in [
            (one_two_five, 0.73, 1.0),
            (one_two_five, 7.0, 10.0),
            (one_two_five, 12.0, 20.0),
            (one_two_five, 900.0, 1000.0),
            (one_two_five, 100_000.0, 100_000.0),
            (one_two_five, 130_000.0, 200_000.0),
            (one_two_five, 0.3, 0.5),
            (one_two_five, 0.000_12, 0.000_2),
            (one_two_five, 1.0, 1.0),
            (one_two_five, 10.0, 10.0),
            (one_two_five, 20.000_1, 50.0),
            (quarters, 0.37, 0.5),
            (quarters, 1.0, 1.0),
            (quarters, 0.21, 0.25),
            (quarters, 22.0, 25.0),
            (quarters, 3.0, 5.0),
            // Float noise does not climb a step.
            (quarters, 0.1 + 0.2, 0.5),
            (quarters, 0.250_000_000_000_01, 0.25),
            // Nothing positive to fit: the unit axis.
            (one_two_five, 0.0, 1.0),
            (one_two_five, -5.0, 1.0),
            (one_two_five, f64::NAN, 1.0),
            (quarters, f64::INFINITY, 1.0),
        ] {
            assert_eq!(nice.ceiling(v), ceiling, "{nice:?} {v}");
        }
    }

    #[test]
    fn candidates_start_a_decade_below_and_are_the_closest_floats() {
        let c: Vec<f64> = Nice::ONE_TWO_FIVE.candidates(450.0).take(7).collect();
        assert_eq!(c, [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]);
        let c: Vec<f64> = Nice::WITH_QUARTERS.candidates(0.3).take(5).collect();
        assert_eq!(c, [0.01, 0.02, 0.025, 0.05, 0.1]);
        // They stop before overflowing.
        assert!(Nice::ONE_TWO_FIVE.candidates(1e300).all(f64::is_finite));
        assert!(Nice::ONE_TWO_FIVE.candidates(1e300).last() > Some(1e307));
    }

    #[test]
    fn scales_map_linearly_and_may_run_backwards() {
        let x = Scale::new((0.0, 1000.0), (100.0, 770.0));
        assert_eq!(x.map(0.0), 100.0);
        assert_eq!(x.map(500.0), 435.0);
        assert_eq!(x.map(1000.0), 770.0);
        let y = Scale::new((0.0, 50_000.0), (430.0, 50.0));
        assert_eq!(y.map(25_000.0), 240.0);
        assert_eq!(y.map(50_000.0), 50.0);
        let flat = Scale::new((5.0, 5.0), (10.0, 20.0));
        assert_eq!(flat.map(5.0), 10.0);
        assert_eq!(
            Scale::new((0.0, 0.5), (0.0, 1.0)).ticks(4),
            [0.0, 0.125, 0.25, 0.375, 0.5]
        );
        assert_eq!(Scale::new((0.0, 2.0), (0.0, 1.0)).ticks(0), [0.0, 2.0]);
    }

    fn plot() -> Plot {
        // The break-even chart's: 800 × 500 with margins 100, 30, 50 and 70.
        Plot {
            left: 100.0,
            top: 50.0,
            width: 670.0,
            height: 380.0,
        }
    }

    #[test]
    fn axes_by_hand() {
        let p = plot();
        assert_eq!((p.right(), p.bottom()), (770.0, 430.0));
        // (axis, tick value and label, title and offset, then the expected line, tick and
        // title). 200 of 1,000 is a fifth of 670 pixels from the left edge: 100 + 134;
        // 10,000 of 50,000 a fifth of 380 pixels up from the bottom: 430 - 76.
        let cases = [
            (
                Axis::bottom(p, (0.0, 1000.0)),
                (200.0, "200"),
                ("Volume <units>", 50.0),
                [
                    r##"<line class="axis" x1="100.0" y1="430.0" x2="770.0" y2="430.0" stroke="#333333"/>"##,
                    r##"<line x1="234.0" y1="50.0" x2="234.0" y2="430.0" stroke="#eeeeee"/><text x="234.0" y="448.0" text-anchor="middle">200</text>"##,
                    r#"<text x="435.0" y="480.0" text-anchor="middle">Volume &lt;units&gt;</text>"#,
                ],
            ),
            (
                Axis::left(p, (0.0, 50_000.0)),
                (10_000.0, "10,000"),
                ("Amount (USD)", 76.0),
                [
                    r##"<line class="axis" x1="100.0" y1="50.0" x2="100.0" y2="430.0" stroke="#333333"/>"##,
                    r##"<line x1="100.0" y1="354.0" x2="770.0" y2="354.0" stroke="#eeeeee"/><text x="92.0" y="358.0" text-anchor="end">10,000</text>"##,
                    r#"<text transform="translate(24.0 240.0) rotate(-90)" text-anchor="middle">Amount (USD)</text>"#,
                ],
            ),
        ];
        for (axis, (value, label), (title, offset), [line, tick, heading]) in cases {
            assert_eq!(axis.line(), line);
            assert_eq!(axis.tick(value, label), tick);
            assert_eq!(axis.title(title, offset), heading);
        }
    }

    #[test]
    fn a_legend_by_hand() {
        let entries = [
            LegendEntry {
                label: "first_touch",
                swatch: Swatch::Box("#4e79a7"),
            },
            LegendEntry {
                label: "Fixed & sunk",
                swatch: Swatch::Line {
                    colour: "#7f7f7f",
                    dash: Some("6 4"),
                },
            },
        ];
        assert_eq!(
            legend(10.0, 30.0, Some("Model"), &entries),
            concat!(
                r#"<g class="legend"><text x="10.0" y="30.0" font-weight="bold">Model</text>"#,
                r##"<rect x="10.0" y="42.0" width="12" height="12" fill="#4e79a7"/><text x="28.0" y="52.0">first_touch</text>"##,
                r##"<line x1="10.0" y1="66.0" x2="34.0" y2="66.0" stroke="#7f7f7f" stroke-width="2" stroke-dasharray="6 4"/><text x="40.0" y="70.0">Fixed &amp; sunk</text>"##,
                "</g>"
            )
        );
        assert_eq!(legend(0.0, 0.0, None, &[]), r#"<g class="legend"></g>"#);
    }

    #[test]
    fn header_tooltips_bars_points_and_thousands() {
        assert_eq!(
            svg_open(200.0, 100.0, 12.0, "Sales & costs"),
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100" font-family="sans-serif" font-size="12" role="img" aria-label="Sales &amp; costs"><title>Sales &amp; costs</title>"#
        );
        assert_eq!(tooltip("a<b"), "<title>a&lt;b</title>");
        assert_eq!(
            bar(1.0, 2.0, 3.24, 4.0, "#123456", "x & y"),
            r##"<rect x="1.0" y="2.0" width="3.2" height="4.0" fill="#123456"><title>x &amp; y</title></rect>"##
        );
        assert_eq!(
            points(&[(0.0, 430.0), (234.04, 99.96)]),
            "0.0,430.0 234.0,100.0"
        );
        assert_eq!(points(&[]), "");
        assert_eq!(thousands("1234567"), "1,234,567");
        assert_eq!(thousands("1234.5"), "1,234.5");
        assert_eq!(thousands("-1000"), "-1,000");
        assert_eq!(thousands("999"), "999");
        assert_eq!(thousands("0.25"), "0.25");
    }
}
