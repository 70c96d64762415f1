//! Single-product cost-volume-profit arithmetic: contribution margin, break-even point,
//! margin of safety, target profit and operating leverage. Exact, in `rust_decimal`.
//!
//! Rounding rules:
//! - every intermediate figure keeps `Decimal`'s full precision (28 significant digits;
//!   only a division that does not terminate is cut there);
//! - break-even and target units are also reported rounded **up** to whole units, because
//!   selling the exact fractional number is impossible and rounding down would leave a loss;
//! - presentation rounding (money 2 places, ratios 6, percentages 2, half away from zero)
//!   happens only in [`present`], never inside a calculation.

use rust_decimal::{Decimal, RoundingStrategy};

/// Why a calculation cannot produce a number. Never infinity or NaN: one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// Price does not exceed variable cost (for `field`): no volume ever breaks even.
    #[error("contribution margin is not positive: break-even is unreachable")]
    Unreachable { field: String },
    /// A figure left `Decimal`'s range (about 7.9 × 10^28).
    #[error("the figures are too large to compute exactly")]
    Overflow,
}

pub type Calc<T> = Result<T, CalcError>;

pub fn mul(a: Decimal, b: Decimal) -> Calc<Decimal> {
    a.checked_mul(b).ok_or(CalcError::Overflow)
}

pub fn add(a: Decimal, b: Decimal) -> Calc<Decimal> {
    a.checked_add(b).ok_or(CalcError::Overflow)
}

pub fn sub(a: Decimal, b: Decimal) -> Calc<Decimal> {
    a.checked_sub(b).ok_or(CalcError::Overflow)
}

/// Division by a divisor the caller has checked is not zero.
pub fn div(a: Decimal, b: Decimal) -> Calc<Decimal> {
    a.checked_div(b).ok_or(CalcError::Overflow)
}

/// Whole units needed to reach at least `exact` units.
pub fn ceil_units(exact: Decimal) -> Decimal {
    exact.ceil()
}

/// Price and variable cost of one unit whose contribution margin is known to be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitEconomics {
    price: Decimal,
    variable_cost: Decimal,
    margin: Decimal,
}

impl UnitEconomics {
    /// `field` names the input blamed when the margin is not positive.
    pub fn new(price: Decimal, variable_cost: Decimal, field: &str) -> Calc<Self> {
        let margin = sub(price, variable_cost)?;
        if margin <= Decimal::ZERO {
            return Err(CalcError::Unreachable {
                field: field.to_string(),
            });
        }
        Ok(UnitEconomics {
            price,
            variable_cost,
            margin,
        })
    }

    pub fn price(&self) -> Decimal {
        self.price
    }

    pub fn variable_cost(&self) -> Decimal {
        self.variable_cost
    }

    /// Contribution margin per unit: price − variable cost (> 0).
    pub fn margin(&self) -> Decimal {
        self.margin
    }

    /// Contribution-margin ratio: margin / price, in (0, 1].
    pub fn margin_ratio(&self) -> Calc<Decimal> {
        div(self.margin, self.price)
    }

    /// Operating profit at `units`: units × margin − fixed costs.
    pub fn profit(&self, units: Decimal, fixed_costs: Decimal) -> Calc<Decimal> {
        sub(mul(units, self.margin)?, fixed_costs)
    }

    /// Units whose contribution covers `fixed_costs` plus `profit`, exactly.
    pub fn units_for(&self, fixed_costs: Decimal, profit: Decimal) -> Calc<Decimal> {
        div(add(fixed_costs, profit)?, self.margin)
    }

    /// Revenue whose contribution covers `fixed_costs` plus `profit`:
    /// (F + P) × price / margin, which equals (F + P) / CM ratio without the ratio's
    /// rounding.
    pub fn revenue_for(&self, fixed_costs: Decimal, profit: Decimal) -> Calc<Decimal> {
        div(mul(add(fixed_costs, profit)?, self.price)?, self.margin)
    }
}

/// The break-even point of one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakevenPoint {
    pub units_exact: Decimal,
    pub units: Decimal,
    pub revenue: Decimal,
}

pub fn breakeven(unit: &UnitEconomics, fixed_costs: Decimal) -> Calc<BreakevenPoint> {
    let units_exact = unit.units_for(fixed_costs, Decimal::ZERO)?;
    Ok(BreakevenPoint {
        units_exact,
        units: ceil_units(units_exact),
        revenue: unit.revenue_for(fixed_costs, Decimal::ZERO)?,
    })
}

/// How far sales may fall before the break-even point is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarginOfSafety {
    pub units: Decimal,
    pub revenue: Decimal,
    /// Margin of safety in revenue as a percentage of sales revenue; `None` at zero sales.
    pub percent: Option<Decimal>,
}

/// Margin of safety at `sales_units`, against the exact break-even units (so it is exactly
/// zero at break-even and negative below it).
pub fn margin_of_safety(
    unit: &UnitEconomics,
    point: &BreakevenPoint,
    sales_units: Decimal,
) -> Calc<MarginOfSafety> {
    let units = sub(sales_units, point.units_exact)?;
    let revenue = mul(units, unit.price())?;
    let sales = mul(sales_units, unit.price())?;
    let percent = if sales.is_zero() {
        None
    } else {
        Some(mul(div(revenue, sales)?, Decimal::ONE_HUNDRED)?)
    };
    Ok(MarginOfSafety {
        units,
        revenue,
        percent,
    })
}

/// Degree of operating leverage at `units`: total contribution / operating profit.
/// `None` exactly at break-even, where profit is zero and the ratio has no value.
pub fn operating_leverage(
    unit: &UnitEconomics,
    fixed_costs: Decimal,
    units: Decimal,
) -> Calc<Option<Decimal>> {
    let contribution = mul(units, unit.margin())?;
    let profit = sub(contribution, fixed_costs)?;
    if profit.is_zero() {
        return Ok(None);
    }
    Ok(Some(div(contribution, profit)?))
}

/// Presentation rounding, applied only when a result leaves the domain.
pub mod present {
    use super::*;

    /// Always with two places (`45000.00`).
    pub fn money(d: Decimal) -> Decimal {
        let mut m = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        m.rescale(2);
        m
    }

    pub fn ratio(d: Decimal) -> Decimal {
        d.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    }

    pub fn percent(d: Decimal) -> Decimal {
        money(d)
    }

    /// Exact (fractional) units, to 6 places.
    pub fn units(d: Decimal) -> Decimal {
        ratio(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// OpenStax, *Principles of Managerial Accounting*, ch. 3 (3.1–3.2 and 3.5), Hicks
    /// Manufacturing's Blue Jay Model birdbath, as recalled: price $100, variable cost $60,
    /// fixed costs $18,000 a month.
    /// CM = 100 − 60 = $40; CM ratio = 40 / 100 = 40 %; BEP = 18,000 / 40 = 450 units;
    /// BEP revenue = 18,000 / 0.40 = $45,000.
    #[test]
    fn openstax_hicks_birdbath_breakeven() {
        let unit = UnitEconomics::new(d("100"), d("60"), "price").unwrap();
        assert_eq!(unit.margin(), d("40"));
        assert_eq!(unit.margin_ratio().unwrap(), d("0.4"));
        let p = breakeven(&unit, d("18000")).unwrap();
        assert_eq!(p.units_exact, d("450"));
        assert_eq!(p.units, d("450"));
        assert_eq!(p.revenue, d("45000"));
    }

    /// Hicks again, with a target profit (as recalled from OpenStax 3.3): to earn $16,000,
    /// units = (18,000 + 16,000) / 40 = 850; revenue = 34,000 / 0.40 = $85,000.
    #[test]
    fn openstax_hicks_target_profit() {
        let unit = UnitEconomics::new(d("100"), d("60"), "price").unwrap();
        assert_eq!(unit.units_for(d("18000"), d("16000")).unwrap(), d("850"));
        assert_eq!(
            unit.revenue_for(d("18000"), d("16000")).unwrap(),
            d("85000")
        );
    }

    /// Margin of safety and operating leverage for Hicks at 1,000 units (OpenStax 3.5 style;
    /// worked by hand): MoS = 1,000 − 450 = 550 units = $55,000 = 55,000 / 100,000 = 55 %;
    /// contribution = 1,000 × 40 = 40,000, profit = 40,000 − 18,000 = 22,000,
    /// DOL = 40,000 / 22,000 = 1.818181…
    #[test]
    fn hicks_margin_of_safety_and_leverage() {
        let unit = UnitEconomics::new(d("100"), d("60"), "price").unwrap();
        let p = breakeven(&unit, d("18000")).unwrap();
        let mos = margin_of_safety(&unit, &p, d("1000")).unwrap();
        assert_eq!(mos.units, d("550"));
        assert_eq!(mos.revenue, d("55000"));
        assert_eq!(mos.percent, Some(d("55")));
        let dol = operating_leverage(&unit, d("18000"), d("1000"))
            .unwrap()
            .unwrap();
        assert_eq!(present::ratio(dol), d("1.818182"));
        assert_eq!(
            operating_leverage(&unit, d("18000"), d("450")).unwrap(),
            None
        );
    }

    /// A fractional break-even, worked by hand: F = 1,000, price 7, VC 4 → CM 3,
    /// 1,000 / 3 = 333.33… units, so 334 whole units; revenue = 1,000 × 7 / 3 = 2,333.33.
    #[test]
    fn fractional_breakeven_rounds_units_up() {
        let unit = UnitEconomics::new(d("7"), d("4"), "price").unwrap();
        let p = breakeven(&unit, d("1000")).unwrap();
        assert_eq!(p.units, d("334"));
        assert_eq!(present::units(p.units_exact), d("333.333333"));
        assert_eq!(present::money(p.revenue), d("2333.33"));
    }

    #[test]
    fn price_not_above_variable_cost_is_unreachable() {
        for (price, vc) in [("10", "10"), ("10", "12"), ("0", "0")] {
            assert_eq!(
                UnitEconomics::new(d(price), d(vc), "price"),
                Err(CalcError::Unreachable {
                    field: "price".into()
                })
            );
        }
    }

    fn money() -> impl Strategy<Value = Decimal> {
        // Cents up to 10 million.
        (0i64..1_000_000_000).prop_map(|c| Decimal::new(c, 2))
    }

    proptest! {
        #[test]
        fn profit_is_zero_at_exact_breakeven_and_not_negative_rounded_up(
            fixed in money(),
            vc in money(),
            margin in (1i64..100_000_000).prop_map(|c| Decimal::new(c, 2)),
        ) {
            let unit = UnitEconomics::new(vc + margin, vc, "price").unwrap();
            let p = breakeven(&unit, fixed).unwrap();
            // Exact to the cent (a non-terminating division is cut at 28 digits).
            let at_exact = unit.profit(p.units_exact, fixed).unwrap();
            prop_assert_eq!(present::money(at_exact), Decimal::ZERO);
            prop_assert!(unit.profit(p.units, fixed).unwrap() >= Decimal::ZERO);
            prop_assert!(p.units - p.units_exact < Decimal::ONE);
            let mos = margin_of_safety(&unit, &p, p.units_exact).unwrap();
            prop_assert_eq!(mos.units, Decimal::ZERO);
            prop_assert_eq!(mos.revenue, Decimal::ZERO);
        }
    }
}
