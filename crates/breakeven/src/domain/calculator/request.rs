//! The calculator's inputs as given: decimal strings in one currency, every figure
//! optional. [`super::inputs`] reads and checks them.

use chrono::NaiveDate;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalculateRequest {
    /// ISO 4217 code of every amount.
    pub currency: String,
    pub fixed_costs: Option<String>,
    pub price: Option<String>,
    pub variable_cost: Option<String>,
    pub actual_units: Option<String>,
    pub planned_units: Option<String>,
    pub target_profit: Option<String>,
    pub leverage_units: Option<String>,
    pub products: Option<Vec<MixProductInput>>,
    pub marketing: Option<MarketingInput>,
    pub sensitivity: Option<SensitivityInput>,
    pub projection: Option<ProjectionInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MixProductInput {
    pub name: Option<String>,
    pub price: String,
    pub variable_cost: String,
    /// Share of units sold, 0 to 1.
    pub mix: String,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketingInput {
    pub average_order_value: Option<String>,
    pub other_variable_costs: Option<String>,
    pub target_roas: Option<String>,
    pub cac: Option<String>,
    pub arpa: Option<String>,
    pub gross_margin: Option<String>,
    pub ltv: Option<String>,
    pub monthly_churn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SensitivityInput {
    pub range_percent: String,
    pub step_percent: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionInput {
    pub monthly_units: Option<String>,
    pub monthly_revenue: Option<String>,
    pub units_to_date: Option<String>,
    /// Start of the period (default: today).
    pub start: Option<NaiveDate>,
}
