//! The classic break-even chart in SVG: revenue, total cost and fixed cost against units,
//! the break-even point marked, loss and profit areas shaded. Drawn with `platform::charts`.
//!
//! Amounts are exact decimals until here; only screen coordinates are `f64`.

use std::fmt::Write;

use platform::charts::{self, Axis, LegendEntry, Nice, Plot, Swatch};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use super::calculator::CoreInputs;
use super::cvp::{self, Calc, present};

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 500.0;
const LEFT: f64 = 100.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 70.0;

/// A line series: its class, name, colour, dash and tooltip, from one point to another.
struct Series {
    class: &'static str,
    name: &'static str,
    colour: &'static str,
    dash: Option<&'static str>,
    tip: String,
    from: (Decimal, Decimal),
    to: (Decimal, Decimal),
}

/// The chart for `inputs`; the x axis runs to `max_units` or else to twice the break-even
/// volume (or past `actual_units`, when given).
pub fn render(
    inputs: &CoreInputs,
    max_units: Option<Decimal>,
    actual_units: Option<Decimal>,
) -> Calc<String> {
    let unit = &inputs.unit;
    let fixed = inputs.fixed_costs;
    let point = cvp::breakeven(unit, fixed)?;
    let mut x_max = max_units
        .filter(|m| *m > Decimal::ZERO)
        .unwrap_or_else(|| (point.units_exact * Decimal::TWO).max(Decimal::TEN));
    if max_units.is_none()
        && let Some(a) = actual_units
    {
        x_max = x_max.max(a * Decimal::new(12, 1));
    }
    let x_max = nice(x_max);
    let revenue_at = |u: Decimal| cvp::mul(u, unit.price());
    let cost_at = |u: Decimal| cvp::add(fixed, cvp::mul(u, unit.variable_cost())?);
    let y_max = nice(revenue_at(x_max)?.max(cost_at(x_max)?).max(Decimal::ONE));

    let plot = Plot {
        left: LEFT,
        top: TOP,
        width: WIDTH - LEFT - RIGHT,
        height: HEIGHT - TOP - BOTTOM,
    };
    let x_axis = Axis::bottom(plot, (0.0, f(x_max)));
    let y_axis = Axis::left(plot, (0.0, f(y_max)));
    let at = |u: Decimal, a: Decimal| (x_axis.map(f(u)), y_axis.map(f(a)));

    let be_units = point.units_exact;
    let be_revenue = point.revenue;
    let currency = inputs.currency.as_str();
    let money = |d: Decimal| format!("{} {currency}", present::money(d));
    let be_text = format!(
        "Break-even: {} units, {}",
        present::units(be_units),
        money(be_revenue)
    );
    let mut s = String::with_capacity(8_000);
    s.push_str(&charts::svg_open(
        WIDTH,
        HEIGHT,
        12.0,
        &format!(
            "Break-even chart: break-even at {} units, {}",
            present::units(be_units),
            money(be_revenue)
        ),
    ));
    s.push_str(charts::BACKGROUND);
    let _ = write!(
        s,
        r##"<text x="{}" y="28" font-size="16" font-weight="bold" text-anchor="middle">Break-even chart</text>"##,
        WIDTH / 2.0
    );

    // Loss: between total cost (above) and revenue (below), from 0 to break-even.
    let _ = write!(
        s,
        r##"<polygon class="loss" points="{}" fill="#d62728" fill-opacity="0.18">{}</polygon>"##,
        charts::points(&[
            at(Decimal::ZERO, Decimal::ZERO),
            at(Decimal::ZERO, fixed),
            at(be_units, be_revenue)
        ]),
        charts::tooltip("Loss: below break-even")
    );
    // Profit: between revenue (above) and total cost (below), past break-even.
    let _ = write!(
        s,
        r##"<polygon class="profit" points="{}" fill="#2ca02c" fill-opacity="0.18">{}</polygon>"##,
        charts::points(&[
            at(be_units, be_revenue),
            at(x_max, revenue_at(x_max)?),
            at(x_max, cost_at(x_max)?)
        ]),
        charts::tooltip("Profit: past break-even")
    );

    // Grid, ticks and tick labels; then the axes and their titles, with units.
    for i in 0..=5 {
        let xv = x_max * Decimal::from(i) / Decimal::from(5);
        let yv = y_max * Decimal::from(i) / Decimal::from(5);
        s.push_str(&x_axis.tick(f(xv), &label(xv)));
        s.push_str(&y_axis.tick(f(yv), &label(yv)));
    }
    s.push_str(&x_axis.line());
    s.push_str(&y_axis.line());
    s.push_str(&x_axis.title("Volume (units sold)", BOTTOM - 20.0));
    s.push_str(&y_axis.title(&format!("Amount ({currency})"), LEFT - 24.0));

    // The three lines, each with its tooltip, and their legend.
    let series = [
        Series {
            class: "fixed-cost",
            name: "Fixed cost",
            colour: "#7f7f7f",
            dash: Some("6 4"),
            tip: format!("Fixed cost: {}", money(fixed)),
            from: (Decimal::ZERO, fixed),
            to: (x_max, fixed),
        },
        Series {
            class: "total-cost",
            name: "Total cost",
            colour: "#d62728",
            dash: None,
            tip: format!(
                "Total cost: {} plus {} per unit",
                money(fixed),
                money(unit.variable_cost())
            ),
            from: (Decimal::ZERO, fixed),
            to: (x_max, cost_at(x_max)?),
        },
        Series {
            class: "revenue",
            name: "Revenue",
            colour: "#1f77b4",
            dash: None,
            tip: format!("Revenue: {} per unit", money(unit.price())),
            from: (Decimal::ZERO, Decimal::ZERO),
            to: (x_max, revenue_at(x_max)?),
        },
    ];
    for line in &series {
        let dash = line
            .dash
            .map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default();
        let _ = write!(
            s,
            r##"<polyline class="{}" points="{}" fill="none" stroke="{}" stroke-width="2"{dash}>{}</polyline>"##,
            line.class,
            charts::points(&[at(line.from.0, line.from.1), at(line.to.0, line.to.1)]),
            line.colour,
            charts::tooltip(&line.tip)
        );
    }

    // The break-even point.
    let (bx, by) = at(be_units, be_revenue);
    let _ = write!(
        s,
        r##"<line x1="{bx:.1}" y1="{by:.1}" x2="{bx:.1}" y2="{:.1}" stroke="#333333" stroke-dasharray="2 3"/><circle class="breakeven" cx="{bx:.1}" cy="{by:.1}" r="5" fill="#000000">{}</circle><text x="{:.1}" y="{:.1}">{}</text>"##,
        plot.bottom(),
        charts::tooltip(&be_text),
        bx + 8.0,
        by - 8.0,
        charts::escape(&be_text)
    );

    // The legend, revenue first.
    let entries: Vec<LegendEntry> = series
        .iter()
        .rev()
        .map(|line| LegendEntry {
            label: line.name,
            swatch: Swatch::Line {
                colour: line.colour,
                dash: line.dash,
            },
        })
        .collect();
    s.push_str(&charts::legend(LEFT + 12.0, TOP + 6.0, None, &entries));
    s.push_str(charts::SVG_CLOSE);
    Ok(s)
}

/// Screen coordinates only.
fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// The smallest 1, 2 or 5 × 10^k at or above `d` (and at least 10^-6), exactly: the first
/// of [`Nice::ONE_TWO_FIVE`]'s candidates near `d` whose decimal is not below `d`.
fn nice(d: Decimal) -> Decimal {
    let d = d.max(Decimal::new(1, 6));
    Nice::ONE_TWO_FIVE
        .candidates(f(d))
        .filter_map(Decimal::from_f64)
        .find(|c| *c >= d)
        .unwrap_or(d)
}

/// A tick label: thousands separated, at most 2 decimals.
fn label(d: Decimal) -> String {
    charts::thousands(&d.round_dp(2).normalize().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calculator::core_inputs;

    #[test]
    fn hicks_chart_has_the_lines_point_areas_and_axes() {
        let inputs = core_inputs(Some("USD"), Some("18000"), Some("100"), Some("60")).unwrap();
        let svg = render(&inputs, None, None).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        for class in [
            "revenue",
            "total-cost",
            "fixed-cost",
            "breakeven",
            "loss",
            "profit",
            "axis",
        ] {
            assert!(svg.contains(&format!("class=\"{class}\"")), "{class}");
        }
        assert!(svg.contains("Break-even: 450 units, 45000.00 USD"));
        assert!(svg.contains("Volume (units sold)") && svg.contains("Amount (USD)"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // 900 units on the x axis (twice 450, rounded up to 1,000).
        assert!(svg.contains(">1,000<"));
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice(Decimal::from(900)), Decimal::from(1000));
        assert_eq!(nice(Decimal::from(100_000)), Decimal::from(100_000));
        assert_eq!(nice(Decimal::from(130_000)), Decimal::from(200_000));
        assert_eq!(nice(Decimal::new(3, 1)), Decimal::new(5, 1));
        assert_eq!(label(Decimal::from(1_234_567)), "1,234,567");
    }

    #[test]
    fn the_chart_is_named_and_every_line_area_and_the_point_has_a_tooltip() {
        let inputs = core_inputs(Some("USD"), Some("18000"), Some("100"), Some("60")).unwrap();
        let svg = render(&inputs, None, None).unwrap();
        assert!(svg.contains(
            r#"role="img" aria-label="Break-even chart: break-even at 450 units, 45000.00 USD""#
        ));
        for tip in [
            "Loss: below break-even",
            "Profit: past break-even",
            "Fixed cost: 18000.00 USD",
            "Total cost: 18000.00 USD plus 60.00 USD per unit",
            "Revenue: 100.00 USD per unit",
            "Break-even: 450 units, 45000.00 USD",
        ] {
            assert!(svg.contains(&format!("<title>{tip}</title>")), "{tip}");
        }
        // The chart's own title, then the six above.
        assert_eq!(svg.matches("<title>").count(), 1 + 6);
        assert!(svg.contains(r#"<g class="legend">"#) && svg.contains(">Revenue</text>"));
        // 450 of 1,000 units across 670 pixels, 45,000 of 100,000 up 380: (100 + 301.5, 430 - 171).
        assert!(svg.contains(r#"<circle class="breakeven" cx="401.5" cy="259.0""#));
    }

    #[test]
    fn nice_numbers_are_exact_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(nice(d("1000.0000000000000001")), d("2000"));
        assert_eq!(nice(d("999.9999999999999999")), d("1000"));
        assert_eq!(nice(d("0.00025")), d("0.0005"));
        assert_eq!(nice(d("0.000000001")), d("0.000001"));
        assert_eq!(nice(d("7")), d("10"));
    }
}
