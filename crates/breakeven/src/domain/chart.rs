//! The classic break-even chart as a hand-written SVG: revenue, total cost and fixed cost
//! against units, the break-even point marked, loss and profit areas shaded.
//!
//! Amounts are exact decimals until here; only screen coordinates are `f64`.

use std::fmt::Write;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::calculator::CoreInputs;
use super::cvp::{self, Calc, present};

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 500.0;
const LEFT: f64 = 100.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 70.0;

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

    let f = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let (xm, ym) = (f(x_max), f(y_max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |u: f64| LEFT + u / xm * plot_w;
    let sy = |a: f64| TOP + plot_h - a / ym * plot_h;
    let pt = |u: Decimal, a: Decimal| format!("{:.1},{:.1}", sx(f(u)), sy(f(a)));

    let be_units = point.units_exact;
    let be_revenue = point.revenue;
    let currency = inputs.currency.as_str();
    let mut s = String::with_capacity(6_000);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">"##
    );
    let _ = write!(
        s,
        r##"<title id="title">Break-even chart: break-even at {} units, {} {}</title>"##,
        present::units(be_units),
        present::money(be_revenue),
        currency
    );
    s.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = write!(
        s,
        r##"<text x="{}" y="28" font-size="16" font-weight="bold" text-anchor="middle">Break-even chart</text>"##,
        WIDTH / 2.0
    );

    // Loss: between total cost (above) and revenue (below), from 0 to break-even.
    let _ = write!(
        s,
        r##"<polygon class="loss" points="{} {} {}" fill="#d62728" fill-opacity="0.18"><title>Loss</title></polygon>"##,
        pt(Decimal::ZERO, Decimal::ZERO),
        pt(Decimal::ZERO, fixed),
        pt(be_units, be_revenue)
    );
    // Profit: between revenue (above) and total cost (below), past break-even.
    let _ = write!(
        s,
        r##"<polygon class="profit" points="{} {} {}" fill="#2ca02c" fill-opacity="0.18"><title>Profit</title></polygon>"##,
        pt(be_units, be_revenue),
        pt(x_max, revenue_at(x_max)?),
        pt(x_max, cost_at(x_max)?)
    );

    // Grid, ticks and tick labels.
    for i in 0..=5 {
        let xv = x_max * Decimal::from(i) / Decimal::from(5);
        let yv = y_max * Decimal::from(i) / Decimal::from(5);
        let (x, y) = (sx(f(xv)), sy(f(yv)));
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#eeeeee"/><line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eeeeee"/>"##,
            TOP + plot_h,
            LEFT + plot_w
        );
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            TOP + plot_h + 18.0,
            label(xv),
            LEFT - 8.0,
            y + 4.0,
            label(yv)
        );
    }
    // Axes and their titles, with units.
    let _ = write!(
        s,
        r##"<line class="axis" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333333"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="#333333"/>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + plot_h
    );
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">Volume (units sold)</text><text transform="translate(24 {:.1}) rotate(-90)" text-anchor="middle">Amount ({currency})</text>"##,
        LEFT + plot_w / 2.0,
        HEIGHT - 20.0,
        TOP + plot_h / 2.0
    );

    // The three lines.
    let _ = write!(
        s,
        r##"<polyline class="fixed-cost" points="{} {}" fill="none" stroke="#7f7f7f" stroke-width="2" stroke-dasharray="6 4"/>"##,
        pt(Decimal::ZERO, fixed),
        pt(x_max, fixed)
    );
    let _ = write!(
        s,
        r##"<polyline class="total-cost" points="{} {}" fill="none" stroke="#d62728" stroke-width="2"/>"##,
        pt(Decimal::ZERO, fixed),
        pt(x_max, cost_at(x_max)?)
    );
    let _ = write!(
        s,
        r##"<polyline class="revenue" points="{} {}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##,
        pt(Decimal::ZERO, Decimal::ZERO),
        pt(x_max, revenue_at(x_max)?)
    );

    // The break-even point.
    let (bx, by) = (sx(f(be_units)), sy(f(be_revenue)));
    let _ = write!(
        s,
        r##"<line x1="{bx:.1}" y1="{by:.1}" x2="{bx:.1}" y2="{:.1}" stroke="#333333" stroke-dasharray="2 3"/><circle class="breakeven" cx="{bx:.1}" cy="{by:.1}" r="5" fill="#000000"/><text x="{:.1}" y="{:.1}">Break-even: {} units, {} {}</text>"##,
        TOP + plot_h,
        bx + 8.0,
        by - 8.0,
        present::units(be_units),
        present::money(be_revenue),
        currency
    );

    // Legend.
    let legend = [
        ("Revenue", "#1f77b4", ""),
        ("Total cost", "#d62728", ""),
        ("Fixed cost", "#7f7f7f", r##" stroke-dasharray="6 4""##),
    ];
    for (i, (name, color, dash)) in legend.iter().enumerate() {
        let y = TOP + 12.0 + 18.0 * i as f64;
        let x = LEFT + 12.0;
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{name}</text>"##,
            x + 24.0,
            x + 30.0,
            y + 4.0
        );
    }
    s.push_str("</svg>");
    Ok(s)
}

/// The smallest 1, 2 or 5 × 10^k at or above `d`.
fn nice(d: Decimal) -> Decimal {
    let mut step = Decimal::ONE;
    while step * Decimal::TEN <= d && step < Decimal::from(10i64.pow(17)) {
        step *= Decimal::TEN;
    }
    while step > d && step > Decimal::new(1, 6) {
        step /= Decimal::TEN;
    }
    for m in [1, 2, 5, 10] {
        let candidate = step * Decimal::from(m);
        if candidate >= d {
            return candidate;
        }
    }
    step * Decimal::TEN
}

/// A tick label: thousands separated, at most 2 decimals.
fn label(d: Decimal) -> String {
    let d = d.round_dp(2).normalize();
    let text = d.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
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
}
