//! A new lead, parsed from what a client sent.

use platform::http::FieldErrors;

use super::{Email, LeadSource};

/// Everything needed to create a lead, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLead {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub source: LeadSource,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
}

/// The raw fields of a create request, before validation.
#[derive(Debug, Clone, Default)]
pub struct LeadInput {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
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
        let company = text(&mut errors, "company", input.company, 300);
        let campaign_id = text(&mut errors, "campaign_id", input.campaign_id, 128);
        let anonymous_id = text(&mut errors, "anonymous_id", input.anonymous_id, 128);
        let affiliate_id = text(&mut errors, "affiliate_id", input.affiliate_id, 128);
        if source == Some(LeadSource::Affiliate) && affiliate_id.is_none() {
            errors.add("affiliate_id", "is required when source is affiliate");
        }
        errors.finish()?;
        Ok(NewLead {
            email: email.expect("checked"),
            source: source.expect("checked"),
            first_name,
            last_name,
            title,
            company,
            campaign_id,
            anonymous_id,
            affiliate_id,
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
