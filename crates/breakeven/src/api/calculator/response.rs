//! The answer of `POST /v1/breakeven/calculate` on the wire: the calculator's analysis
//! with presentation rounding (money 2 places, ratios and exact units 6, percentages and
//! months 2).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calculator::{
    Analysis, Leverage, ProjectionFrom, SafetyMargin, TargetPoint, UnitMargin,
};
use crate::domain::cvp::{BreakevenPoint, ceil_units, present};
use crate::domain::marketing::MarketingResults;
use crate::domain::mix::MixBreakeven;
use crate::domain::sensitivity::Grid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalculateResponse {
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven: Option<BreakevenResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_of_safety: Option<MarginOfSafetyResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profit: Option<TargetResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_leverage: Option<LeverageResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_mix: Option<MixResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<MarketingResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivityResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitResult {
    pub contribution_margin: Decimal,
    pub contribution_margin_ratio: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BreakevenResult {
    /// Exact, to 6 places.
    pub units_exact: Decimal,
    /// Rounded up to whole units.
    pub units: Decimal,
    pub revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarginOfSafetyResult {
    /// `actual` or `planned`: which units it is measured at.
    pub basis: String,
    pub sales_units: Decimal,
    pub units: Decimal,
    pub revenue: Decimal,
    /// Margin of safety as a percentage of sales revenue; absent at zero sales.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TargetResult {
    pub profit: Decimal,
    pub units_exact: Decimal,
    pub units: Decimal,
    pub revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeverageResult {
    pub units: Decimal,
    /// Contribution / operating profit; absent exactly at break-even (profit 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixResult {
    pub weighted_contribution_margin: Decimal,
    pub weighted_price: Decimal,
    pub weighted_contribution_margin_ratio: Decimal,
    pub composite_units_exact: Decimal,
    pub composite_units: Decimal,
    pub revenue: Decimal,
    pub products: Vec<MixProductResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MixProductResult {
    pub name: String,
    pub units_exact: Decimal,
    pub units: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MarketingResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven_roas: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution_per_order: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven_cpa: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowable_cpa: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cac_payback_months: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv_to_cac: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SensitivityResult {
    /// Columns: percentage change of the price.
    pub price_changes_percent: Vec<Decimal>,
    /// Rows: percentage change of the variable cost.
    pub variable_cost_changes_percent: Vec<Decimal>,
    /// Whole break-even units per (row, column); null where break-even is unreachable.
    pub units: Vec<Vec<Option<Decimal>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectionResult {
    pub start: NaiveDate,
    /// Months from `start` (2 places); absent when the run-rate is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

impl From<Analysis> for CalculateResponse {
    fn from(a: Analysis) -> Self {
        CalculateResponse {
            currency: a.currency.to_string(),
            unit: a.unit.map(Into::into),
            breakeven: a.breakeven.map(Into::into),
            margin_of_safety: a.margin_of_safety.map(Into::into),
            target_profit: a.target_profit.map(Into::into),
            operating_leverage: a.operating_leverage.map(Into::into),
            sales_mix: a.sales_mix.map(Into::into),
            marketing: a.marketing.map(Into::into),
            sensitivity: a.sensitivity.map(Into::into),
            projection: a.projection.map(Into::into),
        }
    }
}

impl From<UnitMargin> for UnitResult {
    fn from(u: UnitMargin) -> Self {
        UnitResult {
            contribution_margin: present::money(u.margin),
            contribution_margin_ratio: present::ratio(u.ratio),
        }
    }
}

impl From<BreakevenPoint> for BreakevenResult {
    fn from(p: BreakevenPoint) -> Self {
        BreakevenResult {
            units_exact: present::units(p.units_exact),
            units: p.units,
            revenue: present::money(p.revenue),
        }
    }
}

impl From<SafetyMargin> for MarginOfSafetyResult {
    fn from(s: SafetyMargin) -> Self {
        MarginOfSafetyResult {
            basis: s.basis.as_str().to_string(),
            sales_units: s.sales_units,
            units: present::units(s.margin.units),
            revenue: present::money(s.margin.revenue),
            percent: s.margin.percent.map(present::percent),
        }
    }
}

impl From<TargetPoint> for TargetResult {
    fn from(t: TargetPoint) -> Self {
        TargetResult {
            profit: present::money(t.profit),
            units_exact: present::units(t.units_exact),
            units: ceil_units(t.units_exact),
            revenue: present::money(t.revenue),
        }
    }
}

impl From<Leverage> for LeverageResult {
    fn from(l: Leverage) -> Self {
        LeverageResult {
            units: l.units,
            degree: l.degree.map(present::ratio),
        }
    }
}

impl From<MixBreakeven> for MixResult {
    fn from(b: MixBreakeven) -> Self {
        MixResult {
            weighted_contribution_margin: present::money(b.weighted_margin),
            weighted_price: present::money(b.weighted_price),
            weighted_contribution_margin_ratio: present::ratio(b.weighted_margin_ratio),
            composite_units_exact: present::units(b.composite_units_exact),
            composite_units: b.composite_units,
            revenue: present::money(b.revenue),
            products: b
                .products
                .into_iter()
                .map(|p| MixProductResult {
                    name: p.name,
                    units_exact: present::units(p.units_exact),
                    units: p.units,
                })
                .collect(),
        }
    }
}

impl From<MarketingResults> for MarketingResult {
    fn from(k: MarketingResults) -> Self {
        MarketingResult {
            breakeven_roas: k.breakeven_roas.map(present::ratio),
            contribution_per_order: k.contribution_per_order.map(present::money),
            breakeven_cpa: k.breakeven_cpa.map(present::money),
            allowable_cpa: k.allowable_cpa.map(present::money),
            cac_payback_months: k.cac_payback_months.map(present::percent),
            ltv: k.ltv.map(present::money),
            ltv_to_cac: k.ltv_to_cac.map(present::ratio),
        }
    }
}

impl From<Grid> for SensitivityResult {
    fn from(g: Grid) -> Self {
        SensitivityResult {
            price_changes_percent: g.price_changes,
            variable_cost_changes_percent: g.variable_cost_changes,
            units: g.units,
        }
    }
}

impl From<ProjectionFrom> for ProjectionResult {
    fn from(p: ProjectionFrom) -> Self {
        ProjectionResult {
            start: p.start,
            months: p.projection.as_ref().map(|p| present::percent(p.months)),
            date: p.projection.map(|p| p.date),
        }
    }
}
