//! The analyses the calculator runs on checked inputs: each appears when its inputs are
//! present. Figures keep their full precision; presentation rounding is the caller's
//! ([`crate::domain::cvp::present`]).

use chrono::NaiveDate;
use contracts::Currency;
use rust_decimal::Decimal;

use super::inputs::{Inputs, RunRate};
use crate::domain::cvp::{self, BreakevenPoint, Calc, MarginOfSafety, UnitEconomics};
use crate::domain::marketing::{self, MarketingResults};
use crate::domain::mix::{self, MixBreakeven};
use crate::domain::projection::{self, Projection};
use crate::domain::sensitivity::{self, Grid};

/// Everything the calculator worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub currency: Currency,
    pub unit: Option<UnitMargin>,
    pub breakeven: Option<BreakevenPoint>,
    pub margin_of_safety: Option<SafetyMargin>,
    pub target_profit: Option<TargetPoint>,
    pub operating_leverage: Option<Leverage>,
    pub sales_mix: Option<MixBreakeven>,
    pub marketing: Option<MarketingResults>,
    pub sensitivity: Option<Grid>,
    pub projection: Option<ProjectionFrom>,
}

/// Contribution margin of one unit and its ratio to the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitMargin {
    pub margin: Decimal,
    pub ratio: Decimal,
}

/// Which sales volume the margin of safety is measured at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Actual,
    Planned,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Actual => "actual",
            Basis::Planned => "planned",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyMargin {
    pub basis: Basis,
    pub sales_units: Decimal,
    pub margin: MarginOfSafety,
}

/// The volume and revenue that earn `profit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPoint {
    pub profit: Decimal,
    pub units_exact: Decimal,
    pub revenue: Decimal,
}

/// Degree of operating leverage at `units`; `None` exactly at break-even.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leverage {
    pub units: Decimal,
    pub degree: Option<Decimal>,
}

/// When the break-even point is reached from `start` at the run-rate; `None` when the
/// run-rate is zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionFrom {
    pub start: NaiveDate,
    pub projection: Option<Projection>,
}

pub(super) fn analyse(i: &Inputs) -> Calc<Analysis> {
    let mut out = Analysis {
        currency: i.currency.clone(),
        unit: None,
        breakeven: None,
        margin_of_safety: None,
        target_profit: None,
        operating_leverage: None,
        sales_mix: None,
        marketing: None,
        sensitivity: None,
        projection: None,
    };
    let unit = match (i.price, i.variable_cost) {
        (Some(p), Some(v)) => Some(UnitEconomics::new(p, v, "price")?),
        _ => None,
    };
    let mut margin_ratio = None;
    if let Some(unit) = &unit {
        let ratio = unit.margin_ratio()?;
        margin_ratio = Some(ratio);
        out.unit = Some(UnitMargin {
            margin: unit.margin(),
            ratio,
        });
    }
    if let (Some(unit), Some(fixed)) = (&unit, i.fixed) {
        single_product(i, unit, fixed, &mut out)?;
    }
    if !i.lines.is_empty()
        && let Some(fixed) = i.fixed
    {
        let b = mix::breakeven(&i.lines, fixed)?;
        margin_ratio = margin_ratio.or(Some(b.weighted_margin_ratio));
        out.sales_mix = Some(b);
    }
    if let Some(m) = &i.marketing {
        let m = marketing::MarketingInputs {
            margin_ratio: margin_ratio.or(m.gross_margin),
            ..m.clone()
        };
        out.marketing = Some(marketing::compute(&m)?);
    }
    Ok(out)
}

/// The analyses of one product against fixed costs.
fn single_product(
    i: &Inputs,
    unit: &UnitEconomics,
    fixed: Decimal,
    out: &mut Analysis,
) -> Calc<()> {
    let point = cvp::breakeven(unit, fixed)?;
    out.breakeven = Some(point);
    let basis = i
        .actual
        .map(|u| (Basis::Actual, u))
        .or_else(|| i.planned.map(|u| (Basis::Planned, u)));
    if let Some((basis, sales_units)) = basis {
        out.margin_of_safety = Some(SafetyMargin {
            basis,
            sales_units,
            margin: cvp::margin_of_safety(unit, &point, sales_units)?,
        });
    }
    if let Some(profit) = i.target {
        out.target_profit = Some(TargetPoint {
            profit,
            units_exact: unit.units_for(fixed, profit)?,
            revenue: unit.revenue_for(fixed, profit)?,
        });
    }
    if let Some(units) = i.leverage.or(i.actual).or(i.planned) {
        out.operating_leverage = Some(Leverage {
            units,
            degree: cvp::operating_leverage(unit, fixed, units)?,
        });
    }
    if let Some(steps) = &i.steps {
        out.sensitivity = Some(sensitivity::grid(
            fixed,
            unit.price(),
            unit.variable_cost(),
            steps.clone(),
            steps.clone(),
        )?);
    }
    if let Some(rate) = &i.run_rate {
        out.projection = Some(project(unit, &point, rate)?);
    }
    Ok(())
}

fn project(unit: &UnitEconomics, point: &BreakevenPoint, rate: &RunRate) -> Calc<ProjectionFrom> {
    let per_month = match (rate.units, rate.revenue) {
        (Some(u), _) => u,
        (None, Some(rev)) => cvp::div(rev, unit.price())?,
        (None, None) => Decimal::ZERO,
    };
    Ok(ProjectionFrom {
        start: rate.start,
        projection: projection::project(point.units_exact, rate.to_date, per_month, rate.start)?,
    })
}
