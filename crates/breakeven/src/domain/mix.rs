//! Several products sold in a fixed sales mix: weighted-average contribution margin, the
//! break-even point in composite units, and each product's share of it.

use rust_decimal::Decimal;

use super::cvp::{Calc, CalcError, add, ceil_units, div, mul, sub};

/// One product of the mix: its price, variable cost and share of units sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixLine {
    pub name: String,
    pub price: Decimal,
    pub variable_cost: Decimal,
    /// Share of units sold, in [0, 1]; the shares of a mix sum to 1.
    pub share: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductUnits {
    pub name: String,
    pub units_exact: Decimal,
    /// Rounded up, so each product's own share of the point is reached.
    pub units: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixBreakeven {
    /// Σ share × (price − variable cost): contribution of one composite unit.
    pub weighted_margin: Decimal,
    /// Σ share × price: revenue of one composite unit.
    pub weighted_price: Decimal,
    pub weighted_margin_ratio: Decimal,
    pub composite_units_exact: Decimal,
    pub composite_units: Decimal,
    pub revenue: Decimal,
    pub products: Vec<ProductUnits>,
}

/// Shares may be off 1 by this much (e.g. three shares of 0.333333) and are then
/// normalised; anything further off is the client's mistake.
pub fn mix_tolerance() -> Decimal {
    Decimal::new(1, 6)
}

/// Whether the shares sum to 1 within [`mix_tolerance`]; returns their sum otherwise.
pub fn check_shares(shares: &[Decimal]) -> Result<(), Decimal> {
    let sum: Decimal = shares.iter().copied().sum();
    if (sum - Decimal::ONE).abs() <= mix_tolerance() {
        Ok(())
    } else {
        Err(sum)
    }
}

/// The weighted contribution of a mix, without fixed costs: also what a campaign uses.
/// `Unreachable` (blaming `products`) when the weighted margin is not positive.
pub fn weighted(lines: &[MixLine]) -> Calc<(Decimal, Decimal)> {
    let total: Decimal = lines.iter().map(|l| l.share).sum();
    if total.is_zero() {
        return Err(CalcError::Unreachable {
            field: "products".into(),
        });
    }
    // Normalise once, at the end, so that shares such as 0.333333 lose no precision.
    let mut margin = Decimal::ZERO;
    let mut price = Decimal::ZERO;
    for l in lines {
        margin = add(margin, mul(l.share, sub(l.price, l.variable_cost)?)?)?;
        price = add(price, mul(l.share, l.price)?)?;
    }
    let (margin, price) = (div(margin, total)?, div(price, total)?);
    if margin <= Decimal::ZERO || price <= Decimal::ZERO {
        return Err(CalcError::Unreachable {
            field: "products".into(),
        });
    }
    Ok((margin, price))
}

pub fn breakeven(lines: &[MixLine], fixed_costs: Decimal) -> Calc<MixBreakeven> {
    let (weighted_margin, weighted_price) = weighted(lines)?;
    let total: Decimal = lines.iter().map(|l| l.share).sum();
    let composite_units_exact = div(fixed_costs, weighted_margin)?;
    let products = lines
        .iter()
        .map(|l| {
            let units_exact = div(mul(composite_units_exact, l.share)?, total)?;
            Ok(ProductUnits {
                name: l.name.clone(),
                units_exact,
                units: ceil_units(units_exact),
            })
        })
        .collect::<Calc<Vec<_>>>()?;
    Ok(MixBreakeven {
        weighted_margin,
        weighted_price,
        weighted_margin_ratio: div(weighted_margin, weighted_price)?,
        composite_units_exact,
        composite_units: ceil_units(composite_units_exact),
        revenue: div(mul(fixed_costs, weighted_price)?, weighted_margin)?,
        products,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(name: &str, price: &str, vc: &str, share: &str) -> MixLine {
        MixLine {
            name: name.into(),
            price: d(price),
            variable_cost: d(vc),
            share: d(share),
        }
    }

    /// Multi-product break-even in the manner of OpenStax *Principles of Managerial
    /// Accounting* 3.4 (composite units from the sales mix). I am not sure of the book's
    /// exact figures, so this one is worked by hand: a birdbath at $100 (VC $60, CM $40) and
    /// a feeder at $150 (VC $90, CM $60) sold 60:40, fixed costs $24,000.
    /// Weighted CM = 0.6 × 40 + 0.4 × 60 = 24 + 24 = $48 per composite unit;
    /// composite units = 24,000 / 48 = 500 → 300 birdbaths and 200 feeders
    /// (check: 300 × 40 + 200 × 60 = 12,000 + 12,000 = 24,000);
    /// weighted price = 0.6 × 100 + 0.4 × 150 = 120, revenue = 500 × 120 = $60,000,
    /// weighted CM ratio = 48 / 120 = 0.4.
    #[test]
    fn two_products_sixty_forty() {
        let mix = [
            line("birdbath", "100", "60", "0.6"),
            line("feeder", "150", "90", "0.4"),
        ];
        let b = breakeven(&mix, d("24000")).unwrap();
        assert_eq!(b.weighted_margin, d("48"));
        assert_eq!(b.composite_units_exact, d("500"));
        assert_eq!(b.composite_units, d("500"));
        assert_eq!(b.products[0].units, d("300"));
        assert_eq!(b.products[1].units, d("200"));
        assert_eq!(b.revenue, d("60000"));
        assert_eq!(b.weighted_margin_ratio, d("0.4"));
    }

    /// Three products in a 1:1:1 mix given as 0.333333 each (sum 0.999999, inside the
    /// tolerance, normalised): CMs 10, 20, 30 → weighted CM 20; F = 1,000 → 50 composite
    /// units, 16.67 of each, 17 rounded up.
    #[test]
    fn thirds_are_normalised() {
        let mix = [
            line("a", "20", "10", "0.333333"),
            line("b", "30", "10", "0.333333"),
            line("c", "40", "10", "0.333333"),
        ];
        assert!(check_shares(&mix.iter().map(|l| l.share).collect::<Vec<_>>()).is_ok());
        let b = breakeven(&mix, d("1000")).unwrap();
        assert_eq!(b.weighted_margin, d("20"));
        assert_eq!(b.composite_units, d("50"));
        assert_eq!(b.products[2].units, d("17"));
    }

    #[test]
    fn shares_far_from_one_are_rejected() {
        assert_eq!(check_shares(&[d("0.5"), d("0.4")]), Err(d("0.9")));
    }

    #[test]
    fn a_loss_maker_is_fine_while_the_mix_is_positive_but_not_otherwise() {
        let ok = [line("a", "10", "12", "0.5"), line("b", "10", "4", "0.5")];
        assert_eq!(breakeven(&ok, d("20")).unwrap().weighted_margin, d("2"));
        let bad = [line("a", "10", "20", "0.5"), line("b", "10", "4", "0.5")];
        assert!(matches!(
            breakeven(&bad, d("20")),
            Err(CalcError::Unreachable { .. })
        ));
    }
}
