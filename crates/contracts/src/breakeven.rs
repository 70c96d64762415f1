//! Events published by the break-even service: company and campaign break-even alerts.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::money::Currency;
use crate::payload::EventPayload;
use crate::service::Service;

/// Contribution covered a company period's fixed costs. Sent once per period.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct BreakevenReached {
    /// The period's key, e.g. `2025-03` for a monthly period.
    pub period: String,
    pub period_start: NaiveDate,
    /// Last day of the period, inclusive.
    pub period_end: NaiveDate,
    pub fixed_costs: Decimal,
    /// Revenue minus variable costs so far in the period.
    pub contribution: Decimal,
    pub revenue: Decimal,
    pub currency: Currency,
    pub reached_at: DateTime<Utc>,
}

impl EventPayload for BreakevenReached {
    const TYPE: &'static str = "touchstone.breakeven.breakeven.reached.v1";
    const SERVICE: Service = Service::Breakeven;
    fn subject(&self) -> String {
        self.period.clone()
    }
}

/// A campaign paid for itself: the contribution of its attributed revenue reached its
/// spend. Sent exactly once per campaign.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct CampaignBreakevenReached {
    pub campaign_id: String,
    pub spend: Decimal,
    pub attributed_revenue: Decimal,
    pub contribution: Decimal,
    pub currency: Currency,
    /// Attributed revenue divided by spend.
    pub roas: Decimal,
    /// 1 / contribution-margin ratio.
    pub breakeven_roas: Decimal,
    pub reached_at: DateTime<Utc>,
}

impl EventPayload for CampaignBreakevenReached {
    const TYPE: &'static str = "touchstone.breakeven.campaign.breakeven_reached.v1";
    const SERVICE: Service = Service::Breakeven;
    fn subject(&self) -> String {
        self.campaign_id.clone()
    }
}

/// A campaign has spent at least `risk_threshold` of its budget while its ROAS is below
/// break-even ROAS. Sent once per crossing into that state, not on every event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct CampaignAtRisk {
    pub campaign_id: String,
    pub budget: Decimal,
    pub spend: Decimal,
    /// Spend divided by budget.
    pub spend_share: Decimal,
    /// The configured share of budget that arms the alert (default 0.5).
    pub risk_threshold: Decimal,
    pub attributed_revenue: Decimal,
    pub currency: Currency,
    pub roas: Decimal,
    pub breakeven_roas: Decimal,
    /// At the current run-rate; absent when break-even is not in sight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_breakeven_date: Option<NaiveDate>,
    pub detected_at: DateTime<Utc>,
}

impl EventPayload for CampaignAtRisk {
    const TYPE: &'static str = "touchstone.breakeven.campaign.at_risk.v1";
    const SERVICE: Service = Service::Breakeven;
    fn subject(&self) -> String {
        self.campaign_id.clone()
    }
}
