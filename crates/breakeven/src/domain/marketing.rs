//! Marketing unit economics: break-even ROAS and CPA, allowable CPA for a target ROAS, CAC
//! payback and LTV:CAC. Each figure is produced only when its inputs are present.

use rust_decimal::Decimal;

use super::cvp::{Calc, CalcError, div, mul, sub};

/// Validated inputs; every figure is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketingInputs {
    /// Contribution-margin ratio of what is sold (from price and variable cost, or the
    /// gross margin when those are absent).
    pub margin_ratio: Option<Decimal>,
    pub average_order_value: Option<Decimal>,
    /// Variable costs per order not in the margin (shipping, payment fees, …).
    pub other_variable_costs: Option<Decimal>,
    pub target_roas: Option<Decimal>,
    pub cac: Option<Decimal>,
    /// Average revenue per account per month.
    pub arpa: Option<Decimal>,
    pub gross_margin: Option<Decimal>,
    pub ltv: Option<Decimal>,
    pub monthly_churn: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketingResults {
    pub breakeven_roas: Option<Decimal>,
    pub contribution_per_order: Option<Decimal>,
    pub breakeven_cpa: Option<Decimal>,
    pub allowable_cpa: Option<Decimal>,
    pub cac_payback_months: Option<Decimal>,
    pub ltv: Option<Decimal>,
    pub ltv_to_cac: Option<Decimal>,
}

/// Break-even ROAS = 1 / CM ratio: the revenue each unit of spend must bring back for its
/// contribution to pay for that spend.
pub fn breakeven_roas(margin_ratio: Decimal) -> Calc<Decimal> {
    if margin_ratio <= Decimal::ZERO {
        return Err(CalcError::Unreachable {
            field: "marketing.gross_margin".into(),
        });
    }
    div(Decimal::ONE, margin_ratio)
}

pub fn compute(i: &MarketingInputs) -> Calc<MarketingResults> {
    let mut r = MarketingResults::default();
    if let Some(ratio) = i.margin_ratio {
        r.breakeven_roas = Some(breakeven_roas(ratio)?);
    }
    if let (Some(aov), Some(ratio)) = (i.average_order_value, i.margin_ratio) {
        // Break-even CPA = contribution per order − other variable costs per order.
        let contribution = mul(aov, ratio)?;
        r.contribution_per_order = Some(contribution);
        r.breakeven_cpa = Some(sub(
            contribution,
            i.other_variable_costs.unwrap_or_default(),
        )?);
    }
    if let (Some(aov), Some(roas)) = (i.average_order_value, i.target_roas) {
        // At ROAS = revenue / spend, an order may cost AOV / ROAS.
        r.allowable_cpa = Some(div(aov, roas)?);
    }
    let margin = i.gross_margin.or(i.margin_ratio);
    if let (Some(cac), Some(arpa), Some(margin)) = (i.cac, i.arpa, margin) {
        let monthly = mul(arpa, margin)?;
        if monthly <= Decimal::ZERO {
            return Err(CalcError::Unreachable {
                field: "marketing.arpa".into(),
            });
        }
        r.cac_payback_months = Some(div(cac, monthly)?);
    }
    r.ltv = match (i.ltv, i.arpa, margin, i.monthly_churn) {
        (Some(ltv), ..) => Some(ltv),
        (None, Some(arpa), Some(margin), Some(churn)) if !churn.is_zero() => {
            Some(div(mul(arpa, margin)?, churn)?)
        }
        _ => None,
    };
    if let (Some(ltv), Some(cac)) = (r.ltv, i.cac)
        && !cac.is_zero()
    {
        r.ltv_to_cac = Some(div(ltv, cac)?);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Hand-worked e-commerce example: AOV $80, CM ratio 40 % (price 100, VC 60 scaled),
    /// shipping and payment fees $6 an order.
    /// Break-even ROAS = 1 / 0.4 = 2.5; contribution per order = 80 × 0.4 = $32;
    /// break-even CPA = 32 − 6 = $26; at a target ROAS of 4 the allowable CPA is
    /// 80 / 4 = $20.
    #[test]
    fn roas_and_cpa() {
        let r = compute(&MarketingInputs {
            margin_ratio: Some(d("0.4")),
            average_order_value: Some(d("80")),
            other_variable_costs: Some(d("6")),
            target_roas: Some(d("4")),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.breakeven_roas, Some(d("2.5")));
        assert_eq!(r.contribution_per_order, Some(d("32")));
        assert_eq!(r.breakeven_cpa, Some(d("26")));
        assert_eq!(r.allowable_cpa, Some(d("20")));
        assert_eq!(r.cac_payback_months, None);
    }

    /// Hand-worked SaaS example: CAC $1,200, ARPA $100 a month, gross margin 80 %, churn
    /// 2 % a month. Payback = 1,200 / (100 × 0.8) = 1,200 / 80 = 15 months;
    /// LTV = 100 × 0.8 / 0.02 = $4,000; LTV:CAC = 4,000 / 1,200 = 3.33…
    #[test]
    fn payback_and_ltv_to_cac() {
        let r = compute(&MarketingInputs {
            cac: Some(d("1200")),
            arpa: Some(d("100")),
            gross_margin: Some(d("0.8")),
            monthly_churn: Some(d("0.02")),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.cac_payback_months, Some(d("15")));
        assert_eq!(r.ltv, Some(d("4000")));
        assert_eq!(
            super::super::cvp::present::ratio(r.ltv_to_cac.unwrap()),
            d("3.333333")
        );
        assert_eq!(r.breakeven_roas, None);
    }

    #[test]
    fn zero_margin_is_unreachable_not_infinite() {
        assert!(breakeven_roas(Decimal::ZERO).is_err());
        let r = compute(&MarketingInputs {
            cac: Some(d("10")),
            arpa: Some(d("0")),
            gross_margin: Some(d("0.5")),
            ..Default::default()
        });
        assert!(matches!(r, Err(CalcError::Unreachable { .. })));
    }
}
