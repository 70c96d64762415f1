//! A new lead, parsed from what a client sent.

use platform::http::FieldErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::lifecycle::Stage;
use super::{Email, LeadSource};

/// Everything needed to create (or, after a PATCH is merged in, to update) a lead, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLead {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub source: LeadSource,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub utm: Utm,
    /// Set explicitly by the client; otherwise matched by email domain.
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    pub consent: bool,
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// `subscriber` or `lead` at creation.
    pub lifecycle_stage: Stage,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Utm {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

/// A lead as a client sends it. Only `email` and `source` are required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// One of organic_search, content, webinar, referral, direct (inbound), sdr, event
    /// (outbound), affiliate, paid_search, paid_social, programmatic_display (paid).
    #[schema(example = "webinar")]
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Required when source is `affiliate`.
    pub affiliate_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// An existing account; when absent the account is matched by email domain
    /// (never for free-mail domains).
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    /// Marketing consent given.
    pub consent: Option<bool>,
    /// Custom properties: a JSON object.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
    /// Initial stage, `subscriber` or `lead` (default). Later changes go through
    /// `POST /v1/leads/{id}/lifecycle`.
    pub lifecycle_stage: Option<String>,
}

/// Trims a free-text field; empty means absent. Long values are an error, not truncated.
pub fn text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    let v = value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())?;
    if v.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        return None;
    }
    if v.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
        return None;
    }
    Some(v)
}

impl NewLead {
    /// Checks every field and reports all the invalid ones together.
    pub fn parse(input: LeadInput) -> Result<NewLead, platform::Problem> {
        let mut errors = FieldErrors::new();
        let email = errors
            .require("email", input.email)
            .and_then(|e| errors.take("email", Email::parse(&e)));
        let source = errors
            .require("source", input.source)
            .and_then(|s| errors.take("source", LeadSource::parse(&s)));
        let first_name = text(&mut errors, "first_name", input.first_name, 200);
        let last_name = text(&mut errors, "last_name", input.last_name, 200);
        let title = text(&mut errors, "title", input.title, 200);
        let phone = text(&mut errors, "phone", input.phone, 40);
        if let Some(p) = &phone
            && !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            errors.add("phone", "may contain only digits, spaces and + - ( ) .");
        }
        let company = text(&mut errors, "company", input.company, 300);
        let campaign_id = text(&mut errors, "campaign_id", input.campaign_id, 128);
        let anonymous_id = text(&mut errors, "anonymous_id", input.anonymous_id, 128);
        let affiliate_id = text(&mut errors, "affiliate_id", input.affiliate_id, 128);
        if source == Some(LeadSource::Affiliate) && affiliate_id.is_none() {
            errors.add("affiliate_id", "is required when source is affiliate");
        }
        let utm = Utm {
            utm_source: text(&mut errors, "utm_source", input.utm_source, 200),
            utm_medium: text(&mut errors, "utm_medium", input.utm_medium, 200),
            utm_campaign: text(&mut errors, "utm_campaign", input.utm_campaign, 200),
            utm_term: text(&mut errors, "utm_term", input.utm_term, 200),
            utm_content: text(&mut errors, "utm_content", input.utm_content, 200),
        };
        let owner = text(&mut errors, "owner", input.owner, 200);
        let properties = match input.properties {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(m)) => m,
            Some(_) => {
                errors.add("properties", "must be a JSON object");
                serde_json::Map::new()
            }
        };
        let lifecycle_stage = match input.lifecycle_stage.as_deref() {
            None => Some(Stage::Lead),
            Some(s) => errors.take(
                "lifecycle_stage",
                Stage::parse(s)
                    .filter(|s| matches!(s, Stage::Subscriber | Stage::Lead))
                    .ok_or_else(|| "must be subscriber or lead when a lead is created".into()),
            ),
        };
        errors.finish()?;
        Ok(NewLead {
            email: email.expect("checked"),
            source: source.expect("checked"),
            first_name,
            last_name,
            title,
            phone,
            company,
            campaign_id,
            anonymous_id,
            affiliate_id,
            utm,
            account_id: input.account_id,
            owner,
            consent: input.consent.unwrap_or(false),
            properties,
            lifecycle_stage: lifecycle_stage.expect("checked"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> LeadInput {
        LeadInput {
            email: Some("Grace@Hopper.dev".into()),
            source: Some("webinar".into()),
            ..Default::default()
        }
    }

    #[test]
    fn parses_a_minimal_lead() {
        let lead = NewLead::parse(input()).unwrap();
        assert_eq!(lead.email.as_str(), "grace@hopper.dev");
        assert_eq!(lead.source, LeadSource::Webinar);
        assert_eq!(lead.first_name, None);
    }

    #[test]
    fn reports_every_bad_field() {
        let p = NewLead::parse(LeadInput {
            email: Some("nope".into()),
            source: None,
            title: Some("x".repeat(201)),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "source", "title"]);
        assert_eq!(p.status, 422);
    }

    #[test]
    fn affiliate_leads_need_an_affiliate_id() {
        let mut i = input();
        i.source = Some("affiliate".into());
        let p = NewLead::parse(i.clone()).unwrap_err();
        assert_eq!(p.errors[0].field, "affiliate_id");
        i.affiliate_id = Some("aff-7".into());
        assert!(NewLead::parse(i).is_ok());
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut i = input();
        i.company = Some("   ".into());
        assert_eq!(NewLead::parse(i).unwrap().company, None);
    }
}
