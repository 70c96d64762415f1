//! The company month: the contribution of the deals won in a calendar month (UTC) against
//! the month's share of the fixed costs, and the contribution of one won deal.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use contracts::funnel::ProductLine;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::cvp::{Calc, add, div, mul, sub};
use super::records::{Period, PricedProduct};

/// The month a time falls in, `YYYY-MM` (company periods are calendar months, UTC).
pub fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// The first and last day of a `YYYY-MM` month.
pub fn month_bounds(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = start.checked_add_months(Months::new(1))?;
    Some((start, next.pred_opt()?))
}

/// Contribution of a deal's product lines: each line's revenue (its amount, or units ×
/// list price) minus units × variable cost. `None` when the deal has no lines, or a line
/// names a product not in `known` or priced in another currency than `currency`. Figures
/// past `Decimal`'s range are an overflow.
pub fn deal_contribution(
    lines: &[ProductLine],
    currency: &str,
    known: &[PricedProduct],
) -> Calc<Option<Decimal>> {
    if lines.is_empty() {
        return Ok(None);
    }
    let mut total = Decimal::ZERO;
    for line in lines {
        let Some(product) = Uuid::parse_str(&line.product_id)
            .ok()
            .and_then(|id| known.iter().find(|k| k.id == id))
        else {
            return Ok(None);
        };
        if product.currency != currency {
            return Ok(None);
        }
        let units = Decimal::from(line.units);
        let revenue = match line.amount {
            Some(amount) => amount,
            None => mul(units, product.price)?,
        };
        total = add(total, sub(revenue, mul(units, product.variable_cost)?)?)?;
    }
    Ok(Some(total))
}

/// A month's figures in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    pub revenue: Decimal,
    pub contribution: Decimal,
    /// Fixed costs per month.
    pub fixed_costs: Decimal,
}

impl MonthFigures {
    /// `known` is the contribution of the deals whose lines are all known; the other
    /// deals' revenue (`unknown_revenue`) counts at the average CM ratio of the products
    /// priced in the currency (`prices` as price and variable cost, price > 0), or not at
    /// all with no products. Fixed costs (`amount`, `period`) are spread over months.
    /// Figures past `Decimal`'s range are an overflow.
    pub fn new(
        revenue: Decimal,
        known: Decimal,
        unknown_revenue: Decimal,
        prices: &[(Decimal, Decimal)],
        fixed_costs: &[(Decimal, String)],
    ) -> Calc<MonthFigures> {
        let ratio = if prices.is_empty() {
            Decimal::ZERO
        } else {
            let mut sum = Decimal::ZERO;
            for (p, v) in prices {
                sum = add(sum, div(sub(*p, *v)?, *p)?)?;
            }
            div(sum, Decimal::from(prices.len()))?
        };
        let mut fixed = Decimal::ZERO;
        for (a, p) in fixed_costs {
            fixed = add(fixed, Period::parse(p).map_or(*a, |p| p.monthly(*a)))?;
        }
        Ok(MonthFigures {
            revenue,
            contribution: add(known, mul(unknown_revenue, ratio)?)?,
            fixed_costs: fixed,
        })
    }

    /// Whether the contribution covers the fixed costs (and there are fixed costs at all).
    pub fn breaks_even(&self) -> bool {
        self.fixed_costs > Decimal::ZERO && self.contribution >= self.fixed_costs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn months_and_their_bounds() {
        let t: DateTime<Utc> = "2024-02-10T23:59:00Z".parse().unwrap();
        assert_eq!(month_of(t), "2024-02");
        assert_eq!(
            month_bounds("2024-02"),
            Some(("2024-02-01".parse().unwrap(), "2024-02-29".parse().unwrap()))
        );
        assert_eq!(month_bounds("2024-13"), None);
    }

    /// 10 birdbaths at list price (100, VC 60) = 400; 5 at 90 each = 450 − 300 = 150.
    #[test]
    fn a_deal_contributes_its_lines() {
        let id = Uuid::now_v7();
        let known = [PricedProduct {
            id,
            price: d("100"),
            variable_cost: d("60"),
            currency: "USD".into(),
        }];
        let line = |units, amount| ProductLine {
            product_id: id.to_string(),
            units,
            amount,
        };
        let lines = [line(10, None), line(5, Some(d("450")))];
        assert_eq!(deal_contribution(&lines, "USD", &known), Ok(Some(d("550"))));
        assert_eq!(deal_contribution(&lines, "EUR", &known), Ok(None));
        assert_eq!(deal_contribution(&[], "USD", &known), Ok(None));
        let unknown = ProductLine {
            product_id: "nope".into(),
            units: 1,
            amount: None,
        };
        assert_eq!(deal_contribution(&[unknown], "USD", &known), Ok(None));
        // A deal's lines past the decimal range: an overflow, not a panic.
        let huge = ProductLine {
            product_id: id.to_string(),
            units: u64::MAX,
            amount: Some(Decimal::MAX),
        };
        assert_eq!(
            deal_contribution(&[huge.clone(), huge], "USD", &known),
            Err(super::super::cvp::CalcError::Overflow)
        );
    }

    /// Rent 1,500 a quarter = 500 a month; known contribution 400 plus 500 of other
    /// revenue at the average ratio of 0.4 and 0.2 (0.3) = 550 ≥ 500.
    #[test]
    fn a_month_breaks_even_when_contribution_covers_fixed_costs() {
        let m = MonthFigures::new(
            d("1500"),
            d("400"),
            d("500"),
            &[(d("100"), d("60")), (d("10"), d("8"))],
            &[(d("1500"), "quarter".into())],
        )
        .unwrap();
        assert_eq!((m.contribution, m.fixed_costs), (d("550"), d("500")));
        assert!(m.breaks_even());
        let none = MonthFigures::new(d("1"), d("1"), d("0"), &[], &[]).unwrap();
        assert!(!none.breaks_even(), "no fixed costs, nothing to break even");
    }
}
