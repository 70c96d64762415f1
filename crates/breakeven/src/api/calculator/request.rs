//! The body of `POST /v1/breakeven/calculate` (and a scenario's `inputs`) on the wire.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calculator as domain;

/// Calculator inputs. Amounts are decimal strings in `currency`; all figures are optional
/// and each output block appears when its inputs are given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateRequest {
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Fixed costs of the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_costs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable_cost: Option<String>,
    /// Units actually sold: margin of safety and operating leverage at that volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_units: Option<String>,
    /// Units planned (used when `actual_units` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_profit: Option<String>,
    /// Volume at which to state the degree of operating leverage (default: actual or
    /// planned units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage_units: Option<String>,
    /// Several products and their sales mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<MixProductInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<MarketingInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivityInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MixProductInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub price: String,
    pub variable_cost: String,
    /// Share of units sold, 0 to 1; the shares sum to 1 (±0.000001, then normalised).
    pub mix: String,
    /// Must equal the request's currency when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketingInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_order_value: Option<String>,
    /// Variable costs per order outside the margin (shipping, payment fees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_variable_costs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_roas: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cac: Option<String>,
    /// Average revenue per account per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arpa: Option<String>,
    /// 0 to 1; defaults to the CM ratio of price and variable cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_margin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltv: Option<String>,
    /// 0 to 1; with ARPA and margin gives LTV = ARPA × margin / churn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_churn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityInput {
    /// ± this many percent around today's price and variable cost.
    pub range_percent: String,
    pub step_percent: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectionInput {
    /// Run-rate in units a month (or give `monthly_revenue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_revenue: Option<String>,
    /// Units already sold in the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_to_date: Option<String>,
    /// Start of the period (default: today, UTC).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "platform::time::option_date"
    )]
    pub start: Option<NaiveDate>,
}

impl From<CalculateRequest> for domain::CalculateRequest {
    fn from(r: CalculateRequest) -> Self {
        domain::CalculateRequest {
            currency: r.currency,
            fixed_costs: r.fixed_costs,
            price: r.price,
            variable_cost: r.variable_cost,
            actual_units: r.actual_units,
            planned_units: r.planned_units,
            target_profit: r.target_profit,
            leverage_units: r.leverage_units,
            products: r
                .products
                .map(|ps| ps.into_iter().map(Into::into).collect()),
            marketing: r.marketing.map(Into::into),
            sensitivity: r.sensitivity.map(Into::into),
            projection: r.projection.map(Into::into),
        }
    }
}

impl From<MixProductInput> for domain::MixProductInput {
    fn from(p: MixProductInput) -> Self {
        domain::MixProductInput {
            name: p.name,
            price: p.price,
            variable_cost: p.variable_cost,
            mix: p.mix,
            currency: p.currency,
        }
    }
}

impl From<MarketingInput> for domain::MarketingInput {
    fn from(m: MarketingInput) -> Self {
        domain::MarketingInput {
            average_order_value: m.average_order_value,
            other_variable_costs: m.other_variable_costs,
            target_roas: m.target_roas,
            cac: m.cac,
            arpa: m.arpa,
            gross_margin: m.gross_margin,
            ltv: m.ltv,
            monthly_churn: m.monthly_churn,
        }
    }
}

impl From<SensitivityInput> for domain::SensitivityInput {
    fn from(s: SensitivityInput) -> Self {
        domain::SensitivityInput {
            range_percent: s.range_percent,
            step_percent: s.step_percent,
        }
    }
}

impl From<ProjectionInput> for domain::ProjectionInput {
    fn from(p: ProjectionInput) -> Self {
        domain::ProjectionInput {
            monthly_units: p.monthly_units,
            monthly_revenue: p.monthly_revenue,
            units_to_date: p.units_to_date,
            start: p.start,
        }
    }
}
