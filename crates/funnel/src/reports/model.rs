//! The report's shape, as the API answers it.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds statistics; null when no deal contributed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Timing {
    pub median_secs: Option<f64>,
    pub mean_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StageStats {
    pub stage: String,
    pub optional: bool,
    /// Deals whose best match includes this step.
    pub entered: u64,
    /// `entered` over the previous required step's `entered`.
    pub conversion_from_previous: Option<f64>,
    /// `entered` over the first step's `entered`.
    pub conversion_from_first: Option<f64>,
    /// Deals of the previous required step that did not enter this one.
    pub drop_off: Option<u64>,
    /// Time from the previous matched step (median, mean, p90 with linear interpolation).
    pub time_to_convert: Timing,
    /// Completed stays in this stage, from any deal's log (median and mean).
    pub time_in_stage: Timing,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Segment {
    pub value: String,
    pub deals: u64,
    pub stages: Vec<StageStats>,
    /// The segment's own summary: win rate, cycle, average deal size per currency, sales
    /// velocity and loss reasons of its deals.
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MoneyFigure {
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LossReason {
    pub reason: String,
    pub deals: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    pub open: u64,
    pub won: u64,
    pub lost: u64,
    /// won / (won + lost).
    pub win_rate: Option<f64>,
    /// Mean amount of won deals, per currency, to the cent.
    pub average_deal_size: Vec<MoneyFigure>,
    /// Mean days from open to win.
    pub average_cycle_days: Option<f64>,
    /// open × win rate × average deal size ÷ average cycle days: expected revenue per day.
    pub sales_velocity_per_day: Vec<MoneyFigure>,
    pub loss_reasons: Vec<LossReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FunnelReport {
    pub funnel_version: i32,
    pub order: String,
    pub window: Option<String>,
    pub breakdown: Option<String>,
    pub cohort: Option<String>,
    pub deals: u64,
    pub stages: Vec<StageStats>,
    /// Per breakdown value, when `breakdown` is given, most deals first. By
    /// `stakeholder_coverage` the values are `covered` (the deal's stakeholders include a
    /// champion and an economic buyer) and `not_covered`.
    pub breakdowns: Vec<Segment>,
    /// Per cohort of the deals' open date, oldest first, when `cohort` is given.
    pub trends: Vec<Segment>,
    pub summary: Summary,
}
