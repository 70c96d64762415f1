//! Sensitivity of the break-even point: whole break-even units over a grid of price and
//! variable-cost changes (±x % in steps of y %).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::cvp::{Calc, add, ceil_units, div, mul, sub};

/// At most this many steps per axis (101 × 101 covers ±50 % in 1 % steps).
pub const MAX_STEPS: usize = 201;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// Percentage changes applied to the price: the columns.
    pub price_changes: Vec<Decimal>,
    /// Percentage changes applied to the variable cost: the rows.
    pub variable_cost_changes: Vec<Decimal>,
    /// `units[row][col]`: break-even units rounded up, `None` where the changed price no
    /// longer exceeds the changed variable cost.
    pub units: Vec<Vec<Option<Decimal>>>,
}

/// The steps −range, −range + step, …, +range (always including 0 when the range is a
/// multiple of the step). `None` when there would be more than [`MAX_STEPS`].
pub fn steps(range: Decimal, step: Decimal) -> Option<Vec<Decimal>> {
    if step <= Decimal::ZERO || range < Decimal::ZERO {
        return None;
    }
    let count = (range * Decimal::TWO / step).floor();
    if count >= Decimal::from(MAX_STEPS) {
        return None;
    }
    let n = count.to_usize()?;
    Some((0..=n).map(|i| -range + step * Decimal::from(i)).collect())
}

pub fn grid(
    fixed_costs: Decimal,
    price: Decimal,
    variable_cost: Decimal,
    price_changes: Vec<Decimal>,
    variable_cost_changes: Vec<Decimal>,
) -> Calc<Grid> {
    let scale = |base: Decimal, pct: Decimal| -> Calc<Decimal> {
        add(base, div(mul(base, pct)?, Decimal::ONE_HUNDRED)?)
    };
    let prices = price_changes
        .iter()
        .map(|p| scale(price, *p))
        .collect::<Calc<Vec<_>>>()?;
    let mut units = Vec::with_capacity(variable_cost_changes.len());
    for v in &variable_cost_changes {
        let vc = scale(variable_cost, *v)?;
        let row = prices
            .iter()
            .map(|p| {
                let margin = sub(*p, vc)?;
                if margin <= Decimal::ZERO {
                    Ok(None)
                } else {
                    Ok(Some(ceil_units(div(fixed_costs, margin)?)))
                }
            })
            .collect::<Calc<Vec<_>>>()?;
        units.push(row);
    }
    Ok(Grid {
        price_changes,
        variable_cost_changes,
        units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Hicks (F 18,000, price 100, VC 60) at ±10 % in 10 % steps, by hand:
    /// price 90/100/110 against VC 54/60/66 → margins e.g. 110 − 54 = 56 → 18,000 / 56 =
    /// 321.4 → 322; 100 − 60 = 40 → 450; 90 − 66 = 24 → 750.
    #[test]
    fn three_by_three() {
        let s = steps(d("10"), d("10")).unwrap();
        assert_eq!(s, vec![d("-10"), d("0"), d("10")]);
        let g = grid(d("18000"), d("100"), d("60"), s.clone(), s).unwrap();
        assert_eq!(g.units[0][2], Some(d("322")));
        assert_eq!(g.units[1][1], Some(d("450")));
        assert_eq!(g.units[2][0], Some(d("750")));
    }

    #[test]
    fn unreachable_cells_are_null() {
        let s = steps(d("50"), d("50")).unwrap();
        let g = grid(d("100"), d("10"), d("8"), s.clone(), s).unwrap();
        // price −50 % = 5 against VC 8, 4 or 12: only VC 4 leaves a margin.
        assert_eq!(g.units[0][0], Some(d("100")));
        assert_eq!(g.units[1][0], None);
        assert_eq!(g.units[2][2], Some(d("34")));
    }

    #[test]
    fn too_many_steps_are_refused() {
        assert!(steps(d("50"), d("1")).is_some());
        assert!(steps(d("100"), d("0.5")).is_none());
        assert!(steps(d("10"), d("0")).is_none());
    }

    /// The performance target: a 101 × 101 grid in under 10 ms (release build).
    /// `cargo test -p breakeven --release -- --ignored grid_timing --nocapture`
    #[test]
    #[ignore]
    fn grid_timing() {
        let s = steps(d("50"), d("1")).unwrap();
        assert_eq!(s.len(), 101);
        let runs = 50;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let g = grid(d("18000"), d("100"), d("60"), s.clone(), s.clone()).unwrap();
            assert_eq!(g.units.len(), 101);
        }
        let each = start.elapsed() / runs;
        println!("101 x 101 sensitivity grid: {each:?} per grid");
        assert!(each < std::time::Duration::from_millis(10), "{each:?}");
    }
}
