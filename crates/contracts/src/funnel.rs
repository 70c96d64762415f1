//! Events published by the funnel service: deals and their stage moves.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Currency;
use crate::payload::EventPayload;
use crate::service::Service;

/// Selling methodologies, as carried in `methodology`.
pub const METHODOLOGIES: [&str; 5] = ["challenger", "solution", "spin", "meddicc", "none"];

/// Buying-group roles, as carried in `Stakeholder::role`.
pub const STAKEHOLDER_ROLES: [&str; 5] = [
    "champion",
    "economic_buyer",
    "mobilizer",
    "talker",
    "blocker",
];

/// Declares a deal event: its payload (`deal_id` and `funnel_id`, then `$fields`) and its
/// `EventPayload`, with the deal as subject. `closing` events (won, lost) carry the deal's
/// lead, account and campaign next.
macro_rules! deal_event {
    (closing $(#[$doc:meta])* $name:ident = $ty:literal { $($fields:tt)* }) => {
        deal_event! {
            $(#[$doc])*
            $name = $ty {
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub lead_id: Option<Uuid>,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub account_id: Option<Uuid>,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub campaign_id: Option<String>,
                $($fields)*
            }
        }
    };
    ($(#[$doc:meta])* $name:ident = $ty:literal { $($fields:tt)* }) => {
        $(#[$doc])*
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
        pub struct $name {
            pub deal_id: Uuid,
            pub funnel_id: Uuid,
            $($fields)*
        }

        impl EventPayload for $name {
            const TYPE: &'static str = $ty;
            const SERVICE: Service = Service::Funnel;
            fn subject(&self) -> String {
                self.deal_id.to_string()
            }
        }
    };
}

/// A member of the deal's buying group (Challenger-style map).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct Stakeholder {
    pub person: String,
    /// One of `champion`, `economic_buyer`, `mobilizer`, `talker`, `blocker`.
    pub role: String,
}

deal_event! {
    /// A deal was opened in a funnel.
    DealCreated = "touchstone.funnel.deal.created.v1" {
        /// Version of the funnel definition the deal was opened in.
        pub funnel_version: u32,
        /// The deal's id in the system it was imported from, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub external_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lead_id: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub account_id: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub campaign_id: Option<String>,
        /// The stage the deal starts in, a stage name of its funnel.
        pub stage: String,
        /// Expected deal value, absent until known; `currency` is present whenever this is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub amount: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub currency: Option<Currency>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expected_close: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub owner: Option<String>,
        /// One of `challenger`, `solution`, `spin`, `meddicc`, `none`.
        pub methodology: String,
        #[serde(default)]
        pub stakeholders: Vec<Stakeholder>,
        pub created_at: DateTime<Utc>,
    }
}

deal_event! {
    /// A deal's terms changed (`PATCH /v1/deals/{id}`): carries the whole deal after the
    /// change, so a consumer keeps its copy by replacing it.
    DealUpdated = "touchstone.funnel.deal.updated.v1" {
        /// The deal's version after this change (its ETag). A deal opens at version 1 and
        /// every change of its row (moves too) bumps it, so a consumer can drop an update
        /// older than what it already holds.
        pub version: u64,
        /// Names of the fields this change touched: `amount`, `currency`, `owner`,
        /// `expected_close`, `methodology`, `stakeholders`.
        #[serde(default)]
        pub changed: Vec<String>,
        /// Version of the funnel definition the deal was opened in.
        pub funnel_version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub external_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lead_id: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub account_id: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub campaign_id: Option<String>,
        /// The deal's current stage, a stage name of its funnel (or `lost`).
        pub stage: String,
        /// `open`, `won` or `lost`.
        pub status: String,
        /// Deal value, absent when unknown; `currency` is present whenever this is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub amount: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub currency: Option<Currency>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expected_close: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub owner: Option<String>,
        /// One of `challenger`, `solution`, `spin`, `meddicc`, `none`.
        pub methodology: String,
        #[serde(default)]
        pub stakeholders: Vec<Stakeholder>,
        pub updated_at: DateTime<Utc>,
    }
}

deal_event! {
    /// A deal moved between stages of its funnel. Moves may skip stages, go backwards, or be
    /// backdated: `changed_at` is when the move took effect and may be earlier than the event.
    DealStageChanged = "touchstone.funnel.deal.stage_changed.v1" {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lead_id: Option<Uuid>,
        pub from_stage: String,
        pub to_stage: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
        /// Position of this transition in the deal's append-only log, from 1, in the order the
        /// transitions were recorded (not the order of `changed_at`).
        pub sequence: u64,
        pub changed_at: DateTime<Utc>,
    }
}

/// One product of a won deal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct ProductLine {
    /// The product's id as the break-even service knows it.
    pub product_id: String,
    pub units: u64,
    /// Revenue of this line, in the deal's currency, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}

deal_event! {
    closing
    /// A deal was won: the conversion that closes a journey, and revenue for break-even.
    DealWon = "touchstone.funnel.deal.won.v1" {
        /// Deal value.
        pub amount: Decimal,
        pub currency: Currency,
        pub won_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
        /// Product breakdown where known; empty otherwise.
        #[serde(default)]
        pub products: Vec<ProductLine>,
    }
}

deal_event! {
    closing
    /// A deal was lost: its journey is a non-converting path.
    DealLost = "touchstone.funnel.deal.lost.v1" {
        /// The stage the deal was in when it was lost.
        pub from_stage: String,
        pub reason: String,
        /// Deal value at the time, when known; `currency` is present whenever this is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub amount: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub currency: Option<Currency>,
        pub lost_at: DateTime<Utc>,
    }
}
