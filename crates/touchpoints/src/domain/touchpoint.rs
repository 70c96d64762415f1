//! A touchpoint as received, and the validated touchpoint (the event payload).

use chrono::{DateTime, Duration, Utc};
use contracts::Currency;
use contracts::touchpoints::{CHANNELS, TOUCH_TYPES, TouchpointRecorded};
use platform::validation::{FieldErrors, Invalid};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Longest accepted reference or identity text.
const MAX_TEXT: usize = 512;
/// How far in the future `occurred_at` may be (client clocks drift).
const MAX_FUTURE: Duration = Duration::hours(24);
/// Touch types that may carry a cost: paid impressions and clicks.
const COSTED_TYPES: [&str; 3] = ["impression", "viewable_impression", "click"];
/// Touch types that only happen to a known person.
const IDENTIFIED_TYPES: [&str; 4] = ["email_open", "email_click", "call", "meeting"];

/// A touchpoint as received (one item of `POST /v1/touchpoints` or a line of the bulk
/// body), before its rules are checked.
#[derive(Debug, Clone, Default)]
pub struct TouchpointDraft {
    /// Client-supplied id; generated when absent.
    pub id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub channel: String,
    pub touch_type: String,
    pub campaign_id: Option<String>,
    pub creative_id: Option<String>,
    pub content_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub anonymous_id: Option<String>,
    pub lead_id: Option<Uuid>,
    pub email: Option<String>,
    pub account_id: Option<Uuid>,
    pub affiliate_id: Option<String>,
    pub cost: Option<Decimal>,
    pub currency: Option<String>,
    pub properties: Option<serde_json::Value>,
}

/// A validated touchpoint. It has the shape of the `touchpoint.recorded` payload, which is
/// also how it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Touchpoint(TouchpointRecorded);

impl Touchpoint {
    /// Checks every rule and reports every broken one by field.
    pub fn parse(input: TouchpointDraft, received_at: DateTime<Utc>) -> Result<Self, Invalid> {
        let mut errors = FieldErrors::new();
        if !CHANNELS.contains(&input.channel.as_str()) {
            errors.add("channel", format!("must be one of {}", CHANNELS.join(", ")));
        }
        if !TOUCH_TYPES.contains(&input.touch_type.as_str()) {
            errors.add("type", format!("must be one of {}", TOUCH_TYPES.join(", ")));
        }
        if input.occurred_at > received_at + MAX_FUTURE {
            errors.add("occurred_at", "is more than 24 hours in the future");
        }
        let text = |errors: &mut FieldErrors, field: &str, v: Option<String>| -> Option<String> {
            let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
            if v.chars().count() > MAX_TEXT {
                errors.add(field, format!("must be at most {MAX_TEXT} characters"));
                return None;
            }
            Some(v)
        };
        let campaign_id = text(&mut errors, "campaign_id", input.campaign_id);
        let creative_id = text(&mut errors, "creative_id", input.creative_id);
        let content_id = text(&mut errors, "content_id", input.content_id);
        let utm_source = text(&mut errors, "utm_source", input.utm_source);
        let utm_medium = text(&mut errors, "utm_medium", input.utm_medium);
        let utm_campaign = text(&mut errors, "utm_campaign", input.utm_campaign);
        let utm_term = text(&mut errors, "utm_term", input.utm_term);
        let utm_content = text(&mut errors, "utm_content", input.utm_content);
        let anonymous_id = text(&mut errors, "anonymous_id", input.anonymous_id);
        let affiliate_id = text(&mut errors, "affiliate_id", input.affiliate_id);
        let email = match text(&mut errors, "email", input.email) {
            Some(e) => errors.take("email", normalise_email(&e)),
            None => None,
        };
        let currency = match text(&mut errors, "currency", input.currency) {
            Some(c) => errors.take("currency", Currency::parse(&c)),
            None => None,
        };
        let ty = input.touch_type.as_str();
        if input.channel == "affiliate" && affiliate_id.is_none() {
            errors.add("affiliate_id", "is required when channel is affiliate");
        }
        if matches!(ty, "email_open" | "email_click") && input.channel != "email" {
            errors.add("channel", format!("must be email for a {ty}"));
        }
        if IDENTIFIED_TYPES.contains(&ty) && input.lead_id.is_none() && email.is_none() {
            errors.add("email", format!("or lead_id is required for a {ty}"));
        }
        if let Some(cost) = input.cost {
            if cost.is_sign_negative() && !cost.is_zero() {
                errors.add("cost", "must not be negative");
            }
            if !COSTED_TYPES.contains(&ty) && TOUCH_TYPES.contains(&ty) {
                errors.add(
                    "cost",
                    "applies only to impressions, viewable impressions and clicks",
                );
            }
            if currency.is_none() && !errors.has("currency") {
                errors.add("currency", "is required with cost");
            }
        } else if currency.is_some() {
            errors.add("cost", "is required with currency");
        }
        let properties = match input.properties {
            None | Some(serde_json::Value::Null) => serde_json::Value::Null,
            Some(v @ serde_json::Value::Object(_)) => v,
            Some(_) => {
                errors.add("properties", "must be a JSON object");
                serde_json::Value::Null
            }
        };
        errors.check()?;
        Ok(Touchpoint(TouchpointRecorded {
            touchpoint_id: input.id.unwrap_or_else(Uuid::now_v7),
            occurred_at: input.occurred_at,
            received_at,
            channel: input.channel,
            touch_type: input.touch_type,
            campaign_id,
            creative_id,
            content_id,
            utm_source,
            utm_medium,
            utm_campaign,
            utm_term,
            utm_content,
            anonymous_id,
            lead_id: input.lead_id,
            email,
            account_id: input.account_id,
            affiliate_id,
            cost: input.cost.map(|c| c.normalize()),
            currency,
            properties,
        }))
    }

    /// A touchpoint read back from storage: it was checked when it was written.
    pub fn restore(stored: TouchpointRecorded) -> Self {
        Touchpoint(stored)
    }

    pub fn get(&self) -> &TouchpointRecorded {
        &self.0
    }

    pub fn into_inner(self) -> TouchpointRecorded {
        self.0
    }
}

/// Trimmed and lower-cased, as leads publishes it in `lead.created`, so the two match.
pub fn normalise_email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && e.len() <= 254 =>
        {
            Ok(e)
        }
        _ => Err("is not an email address".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A touch at 10:00 on the test day with the fields every touch needs.
    fn draft(channel: &str, ty: &str) -> TouchpointDraft {
        TouchpointDraft {
            occurred_at: "2026-03-01T10:00:00Z".parse().unwrap(),
            channel: channel.into(),
            touch_type: ty.into(),
            ..TouchpointDraft::default()
        }
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    fn fields(r: Result<Touchpoint, Invalid>) -> Vec<String> {
        r.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_valid_click_keeps_its_id_and_normalises() {
        let id = Uuid::now_v7();
        let t = Touchpoint::parse(
            TouchpointDraft {
                id: Some(id),
                campaign_id: some(" c1 "),
                email: some(" Ada@Example.COM "),
                cost: Some(Decimal::new(12500, 4)),
                currency: some("EUR"),
                utm_term: some(""),
                ..draft("paid_search", "click")
            },
            now(),
        )
        .unwrap();
        let t = t.get();
        assert_eq!(t.touchpoint_id, id);
        assert_eq!(t.campaign_id.as_deref(), Some("c1"));
        assert_eq!(t.email.as_deref(), Some("ada@example.com"));
        assert_eq!(t.cost, Some(Decimal::new(125, 2)));
        assert_eq!(t.cost.unwrap().to_string(), "1.25");
        assert_eq!(t.utm_term, None);
        assert_eq!(t.received_at, now());
    }

    #[test]
    fn unknown_channel_and_type_are_named() {
        let r = Touchpoint::parse(draft("tv", "glance"), now());
        assert_eq!(fields(r), ["channel", "type"]);
    }

    #[test]
    fn affiliate_needs_an_affiliate_id() {
        let r = Touchpoint::parse(draft("affiliate", "click"), now());
        assert_eq!(fields(r), ["affiliate_id"]);
    }

    #[test]
    fn cost_rules() {
        let base = |ty: &str, cost: Option<i64>, currency: Option<&str>| {
            Touchpoint::parse(
                TouchpointDraft {
                    cost: cost.map(|c| Decimal::new(c, 2)),
                    currency: currency.map(str::to_string),
                    ..draft("display", ty)
                },
                now(),
            )
        };
        assert_eq!(fields(base("impression", Some(-1), Some("EUR"))), ["cost"]);
        assert_eq!(fields(base("impression", Some(1), None)), ["currency"]);
        assert_eq!(fields(base("impression", None, Some("EUR"))), ["cost"]);
        assert_eq!(
            fields(base("impression", Some(100), Some("eur"))),
            ["currency"]
        );
        assert_eq!(fields(base("page_view", Some(100), Some("EUR"))), ["cost"]);
        assert!(base("impression", Some(0), Some("EUR")).is_ok());
    }

    #[test]
    fn identified_types_need_a_person_and_email_types_the_email_channel() {
        let r = Touchpoint::parse(
            TouchpointDraft {
                anonymous_id: some("a"),
                ..draft("direct", "email_open")
            },
            now(),
        );
        assert_eq!(fields(r), ["channel", "email"]);
        let r = Touchpoint::parse(
            TouchpointDraft {
                email: some("nope"),
                ..draft("sales_call", "call")
            },
            now(),
        );
        assert_eq!(fields(r), ["email", "email"]);
    }

    #[test]
    fn far_future_and_non_object_properties_are_rejected() {
        let r = Touchpoint::parse(
            TouchpointDraft {
                occurred_at: "2026-03-03T12:00:01Z".parse().unwrap(),
                properties: Some(serde_json::json!([1])),
                ..draft("direct", "visit")
            },
            now(),
        );
        assert_eq!(fields(r), ["occurred_at", "properties"]);
    }
}
