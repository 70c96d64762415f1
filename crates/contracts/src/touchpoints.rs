//! Events published by the touchpoints service: recorded touchpoints and attributed conversions.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Currency;
use crate::payload::EventPayload;
use crate::service::Service;

/// Channels, as carried in `channel`.
pub const CHANNELS: [&str; 15] = [
    "organic_search",
    "paid_search",
    "display",
    "social_organic",
    "paid_social",
    "email",
    "affiliate",
    "referral",
    "direct",
    "webinar",
    "event",
    "sales_call",
    "content",
    "app",
    "employee",
];

/// Touch types, as carried in `type`.
pub const TOUCH_TYPES: [&str; 12] = [
    "impression",
    "viewable_impression",
    "click",
    "visit",
    "page_view",
    "form_submit",
    "email_open",
    "email_click",
    "call",
    "meeting",
    "download",
    "app_open",
];

/// One touchpoint. Many of these travel in one AMQP message, in CloudEvents batch mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct TouchpointRecorded {
    /// Client-supplied or generated; re-ingesting the same id has no second effect.
    pub touchpoint_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// One of `organic_search`, `paid_search`, `display`, `social_organic`, `paid_social`,
    /// `email`, `affiliate`, `referral`, `direct`, `webinar`, `event`, `sales_call`,
    /// `content`, `app`, `employee`.
    pub channel: String,
    /// One of `impression`, `viewable_impression`, `click`, `visit`, `page_view`,
    /// `form_submit`, `email_open`, `email_click`, `call`, `meeting`, `download`, `app_open`.
    #[serde(rename = "type")]
    pub touch_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creative_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The lead, when the touch was identified at ingest or stitched before publishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    /// Present when `channel` is `affiliate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<String>,
    /// Cost of a paid impression or click, never negative; `currency` is present whenever
    /// this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Free-form JSON from the source system.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub properties: serde_json::Value,
}

impl EventPayload for TouchpointRecorded {
    const TYPE: &'static str = "touchstone.touchpoints.touchpoint.recorded.v1";
    const SERVICE: Service = Service::Touchpoints;
    fn subject(&self) -> String {
        self.touchpoint_id.to_string()
    }
}

/// Credit given to one channel, or one campaign of a channel, for a conversion.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct AttributionCredit {
    pub channel: String,
    /// Set when the credit is for one campaign within the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// Fractional share of the conversion, between 0 and 1; the credits of one conversion
    /// sum to 1.
    pub conversions: Decimal,
    /// Share of the conversion value, in the conversion's currency.
    pub value: Decimal,
}

/// A won deal's value was attributed to the channels and campaigns of its journey.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct ConversionAttributed {
    pub conversion_id: Uuid,
    pub deal_id: Uuid,
    pub lead_id: Uuid,
    /// Attribution model: `first_touch`, `last_touch`, `last_non_direct`, `linear`,
    /// `time_decay`, `position_based`, `w_shaped`, `full_path`, `markov` or `shapley`.
    pub model: String,
    /// Order of the Markov chain (1 to 4), for `markov` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u8>,
    /// Conversion value, from the won deal.
    pub value: Decimal,
    pub currency: Currency,
    /// When the deal was won.
    pub converted_at: DateTime<Utc>,
    /// Number of touches in the journey within the lookback window.
    pub touch_count: u32,
    pub credits: Vec<AttributionCredit>,
}

impl EventPayload for ConversionAttributed {
    const TYPE: &'static str = "touchstone.touchpoints.conversion.attributed.v1";
    const SERVICE: Service = Service::Touchpoints;
    fn subject(&self) -> String {
        self.conversion_id.to_string()
    }
}
