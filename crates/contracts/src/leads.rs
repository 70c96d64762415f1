//! Events published by the leads service: leads, their scoring, lifecycle and qualification, and accounts.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;
use crate::payload::EventPayload;
use crate::service::Service;

/// The lead source taxonomy, as carried in `source`.
pub const SOURCES: [&str; 11] = [
    "organic_search",
    "content",
    "webinar",
    "referral",
    "direct",
    "sdr",
    "event",
    "affiliate",
    "paid_search",
    "paid_social",
    "programmatic_display",
];

/// Lifecycle stages, in their forward order, then `disqualified`.
pub const LIFECYCLE_STAGES: [&str; 8] = [
    "subscriber",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "evangelist",
    "disqualified",
];

/// ABM tiers of an account, as carried in `abm_tier`.
pub const ABM_TIERS: [&str; 4] = ["one_to_one", "one_to_few", "one_to_many", "none"];

/// Implements `EventPayload` for the leads service's event `$name`, of type `$type`, whose
/// subject is its `$subject` id.
macro_rules! leads_payload {
    ($name:ident = $type:literal, subject: $subject:ident) => {
        impl EventPayload for $name {
            const TYPE: &'static str = $type;
            const SERVICE: Service = Service::Leads;
            fn subject(&self) -> String {
                self.$subject.to_string()
            }
        }
    };
}

/// Declares a lead event and its type: the event's own leading fields, then the lead's whole
/// profile (the same fields, serde attributes and order in every lead event, each with the
/// documentation this event gives it, if any), with the event's own fields after `source`
/// and at the end.
macro_rules! lead_event {
    (
        $(#[$attr:meta])*
        pub struct $name:ident = $type:literal {
            $($(#[$head_meta:meta])* pub $head:ident: $head_ty:ty,)*
            profile {
                email: [$(#[$email:meta])*],
                company: [$(#[$company:meta])*],
                source: [$(#[$source:meta])*],
                $($(#[$mid_meta:meta])* pub $mid:ident: $mid_ty:ty,)*
                anonymous_id: [$(#[$anonymous_id:meta])*],
                account_id: [$(#[$account_id:meta])*],
                consent: [$(#[$consent:meta])*],
                properties: [$(#[$properties:meta])*],
            }
            $($(#[$tail_meta:meta])* pub $tail:ident: $tail_ty:ty,)*
        }
    ) => {
        $(#[$attr])*
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
        pub struct $name {
            $($(#[$head_meta])* pub $head: $head_ty,)*
            $(#[$email])*
            pub email: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub first_name: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub last_name: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub title: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub phone: Option<String>,
            $(#[$company])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub company: Option<String>,
            $(#[$source])*
            pub source: String,
            $($(#[$mid_meta])* pub $mid: $mid_ty,)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub campaign_id: Option<String>,
            $(#[$anonymous_id])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub anonymous_id: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub affiliate_id: Option<String>,
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
            $(#[$account_id])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub account_id: Option<Uuid>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub owner: Option<String>,
            $(#[$consent])*
            #[serde(default)]
            pub consent: bool,
            $(#[$properties])*
            #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
            pub properties: serde_json::Value,
            $($(#[$tail_meta])* pub $tail: $tail_ty,)*
        }

        leads_payload!($name = $type, subject: lead_id);
    };
}

lead_event! {
    /// A lead was created.
    pub struct LeadCreated = "touchstone.leads.lead.created.v1" {
        pub lead_id: Uuid,
        profile {
            email: [
                /// Normalised (trimmed, lower-cased) email; unique among live leads.
            ],
            company: [
                /// Company name as the lead gave it; the matched account is `account_id`.
            ],
            source: [
                /// One of `organic_search`, `content`, `webinar`, `referral`, `direct` (inbound), `sdr`,
                /// `event` (outbound), `affiliate` (then `affiliate_id` is set), `paid_search`,
                /// `paid_social`, `programmatic_display` (paid).
            ],
            /// Initial lifecycle stage: `subscriber` or `lead`.
            pub lifecycle_stage: String,
            anonymous_id: [
                /// The web analytics id of the person before they identified; touchpoints stitches
                /// earlier anonymous touches to the lead through it.
            ],
            account_id: [
                /// Matched by email domain (never for free-mail domains) or set explicitly.
            ],
            consent: [
                /// Marketing consent given.
            ],
            properties: [
                /// Custom properties, any JSON.
            ],
        }
        pub created_at: DateTime<Utc>,
    }
}

lead_event! {
    /// A lead's profile changed. Carries the whole profile after the change, so a consumer's
    /// read model can be replaced rather than patched; `version` orders updates.
    pub struct LeadUpdated = "touchstone.leads.lead.updated.v1" {
        pub lead_id: Uuid,
        /// The lead's version after this change (the ETag). `lead.created` is version 1, so a
        /// consumer can drop an update older than what it already holds.
        pub version: u64,
        /// Names of the fields this change touched.
        #[serde(default)]
        pub changed: Vec<String>,
        profile {
            email: [],
            company: [],
            source: [
                /// Same taxonomy as in `lead.created`.
            ],
            anonymous_id: [],
            account_id: [],
            consent: [],
            properties: [],
        }
        pub updated_at: DateTime<Utc>,
    }
}

/// A lead's grade changed or its score crossed an auto-promotion threshold. Not sent on
/// every touch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct LeadScored {
    pub lead_id: Uuid,
    /// Points from rules on lead and account attributes.
    pub fit_score: f64,
    /// Decayed points from touchpoints (half-life decay), as of `scored_at`.
    pub engagement_score: f64,
    /// Fit band `A`/`B`/`C` followed by engagement band `1`/`2`/`3`, e.g. `A1`.
    pub grade: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_grade: Option<String>,
    /// Names of the thresholds this change crossed, e.g. `mql`; empty when only the grade
    /// changed.
    #[serde(default)]
    pub crossed_thresholds: Vec<String>,
    /// Version of the scoring model that produced the score.
    pub model_version: u32,
    pub scored_at: DateTime<Utc>,
}

leads_payload!(LeadScored = "touchstone.leads.lead.scored.v1", subject: lead_id);

/// A lead moved between lifecycle stages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct LeadLifecycleChanged {
    pub lead_id: Uuid,
    /// One of `subscriber`, `lead`, `mql`, `sql`, `opportunity`, `customer`, `evangelist`,
    /// `disqualified`.
    pub from_stage: String,
    /// Same values as `from_stage`. A move back to `lead` is a recycle.
    pub to_stage: String,
    /// What made the move: `manual`, `scoring` (auto-promotion), `qualification`
    /// (MEDDICC), `deal_created`, `deal_won`, `deal_lost` or `merge`.
    pub cause: String,
    /// Free text; always present for a recycle or a disqualification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deal whose event caused the move, for the `deal_*` causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

leads_payload!(
    LeadLifecycleChanged = "touchstone.leads.lead.lifecycle_changed.v1",
    subject: lead_id
);

/// Scores of the MEDDICC elements, each 0 to 3.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct MeddiccScores {
    pub metrics: u8,
    pub economic_buyer: u8,
    pub decision_criteria: u8,
    pub decision_process: u8,
    pub identify_pain: u8,
    pub champion: u8,
    pub competition: u8,
    /// Present when the lead is qualified with MEDDPICC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_process: Option<u8>,
}

/// A lead passed the qualification rule; the leads service also moves it to `sql`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct LeadQualified {
    pub lead_id: Uuid,
    /// `meddicc`, or `meddpicc` when `paper_process` is scored.
    pub framework: String,
    pub scores: MeddiccScores,
    /// Sum of the element scores.
    pub total: u8,
    /// Highest possible total: 21, or 24 with `paper_process`.
    pub max_total: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    pub qualified_at: DateTime<Utc>,
}

leads_payload!(LeadQualified = "touchstone.leads.lead.qualified.v1", subject: lead_id);

/// The lead `merged_lead_id` was merged into `lead_id` and no longer exists on its own: its
/// history now belongs to `lead_id`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct LeadMerged {
    /// The surviving lead.
    pub lead_id: Uuid,
    pub merged_lead_id: Uuid,
    /// Identities of the merged lead, so that touches stitched by them move too.
    pub merged_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_anonymous_id: Option<String>,
    pub merged_at: DateTime<Utc>,
}

leads_payload!(LeadMerged = "touchstone.leads.lead.merged.v1", subject: lead_id);

/// Declares an account event and its type: the event's own leading fields, then the whole
/// account (the same fields, serde attributes and order in both account events, each with
/// the documentation this event gives it, if any), then the event's own trailing fields.
macro_rules! account_event {
    (
        $(#[$attr:meta])*
        pub struct $name:ident = $type:literal {
            $($(#[$head_meta:meta])* pub $head:ident: $head_ty:ty,)*
            account {
                domains: [$(#[$domains:meta])*],
                target: [$(#[$target:meta])*],
            }
            $($(#[$tail_meta:meta])* pub $tail:ident: $tail_ty:ty,)*
        }
    ) => {
        $(#[$attr])*
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
        pub struct $name {
            $($(#[$head_meta])* pub $head: $head_ty,)*
            pub name: String,
            $(#[$domains])*
            #[serde(default)]
            pub domains: Vec<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub industry: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub employees: Option<u32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub annual_revenue: Option<Money>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub region: Option<String>,
            /// One of `one_to_one`, `one_to_few`, `one_to_many`, `none`.
            pub abm_tier: String,
            $(#[$target])*
            pub target: bool,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub owner: Option<String>,
            $($(#[$tail_meta])* pub $tail: $tail_ty,)*
        }

        leads_payload!($name = $type, subject: account_id);
    };
}

account_event! {
    /// An account was created.
    pub struct AccountCreated = "touchstone.leads.account.created.v1" {
        pub account_id: Uuid,
        account {
            domains: [
                /// Email domains that match leads to this account, lower-case.
            ],
            target: [
                /// On the target account list.
            ],
        }
        pub created_at: DateTime<Utc>,
    }
}

account_event! {
    /// An account changed. Carries the whole account after the change; `version` orders updates.
    pub struct AccountUpdated = "touchstone.leads.account.updated.v1" {
        pub account_id: Uuid,
        /// The account's version after this change; `account.created` is version 1.
        pub version: u64,
        /// Names of the fields this change touched.
        #[serde(default)]
        pub changed: Vec<String>,
        account {
            domains: [],
            target: [],
        }
        pub updated_at: DateTime<Utc>,
    }
}
