//! A lead's profile: parsed from what a client sent, compared between versions, and merged
//! from a duplicate.

use platform::validation::{FieldErrors, Invalid};
use uuid::Uuid;

use super::email::is_free_mail_domain;
use super::lifecycle::Stage;
use super::{Email, LeadSource};

/// The UTM parameters a lead arrived with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

/// What a client sets on a lead, checked and normalised: the one shape a lead's profile
/// has, whether it is stored, answered or published.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadProfile {
    /// Trimmed and lower-cased (see [`Email`]); unique among live leads.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// One of the [`LeadSource`] names.
    pub source: String,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub utm: Utm,
    /// Set explicitly by the client; otherwise matched by email domain.
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    pub consent: bool,
    /// Custom properties: a JSON object.
    pub properties: serde_json::Value,
}

/// A lead to create (or, after a PATCH is merged in, the new state of one), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLead {
    pub profile: LeadProfile,
    /// `subscriber` or `lead` at creation.
    pub lifecycle_stage: Stage,
}

/// A lead as a client sent it, nothing checked yet. Only `email` and `source` are required.
#[derive(Debug, Clone, Default)]
pub struct LeadDraft {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub source: Option<String>,
    pub campaign_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub utm: Utm,
    pub account_id: Option<Uuid>,
    pub owner: Option<String>,
    pub consent: Option<bool>,
    pub properties: Option<serde_json::Value>,
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
    pub fn parse(input: LeadDraft) -> Result<NewLead, Invalid> {
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
        let utm = input.utm;
        let utm = Utm {
            utm_source: text(&mut errors, "utm_source", utm.utm_source, 200),
            utm_medium: text(&mut errors, "utm_medium", utm.utm_medium, 200),
            utm_campaign: text(&mut errors, "utm_campaign", utm.utm_campaign, 200),
            utm_term: text(&mut errors, "utm_term", utm.utm_term, 200),
            utm_content: text(&mut errors, "utm_content", utm.utm_content, 200),
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
        errors.check()?;
        Ok(NewLead {
            profile: LeadProfile {
                email: email.expect("checked").as_str().to_string(),
                source: source.expect("checked").as_str().to_string(),
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
                properties: serde_json::Value::Object(properties),
            },
            lifecycle_stage: lifecycle_stage.expect("checked"),
        })
    }
}

impl LeadDraft {
    /// This draft written over `base`: each field the draft gives wins, the others keep
    /// `base`'s. What an upserting import line does to the lead that holds its email.
    pub fn over(self, base: LeadProfile) -> LeadDraft {
        let d = self;
        LeadDraft {
            email: d.email.or(Some(base.email)),
            first_name: d.first_name.or(base.first_name),
            last_name: d.last_name.or(base.last_name),
            title: d.title.or(base.title),
            phone: d.phone.or(base.phone),
            company: d.company.or(base.company),
            source: d.source.or(Some(base.source)),
            campaign_id: d.campaign_id.or(base.campaign_id),
            anonymous_id: d.anonymous_id.or(base.anonymous_id),
            affiliate_id: d.affiliate_id.or(base.affiliate_id),
            utm: Utm {
                utm_source: d.utm.utm_source.or(base.utm.utm_source),
                utm_medium: d.utm.utm_medium.or(base.utm.utm_medium),
                utm_campaign: d.utm.utm_campaign.or(base.utm.utm_campaign),
                utm_term: d.utm.utm_term.or(base.utm.utm_term),
                utm_content: d.utm.utm_content.or(base.utm.utm_content),
            },
            account_id: d.account_id.or(base.account_id),
            owner: d.owner.or(base.owner),
            consent: d.consent.or(Some(base.consent)),
            properties: d.properties.or(Some(base.properties)),
            // A lead's stage changes through its lifecycle, never by an import.
            lifecycle_stage: None,
        }
    }
}

impl LeadProfile {
    /// The email's domain when it may identify the lead's account: never a free-mail one.
    pub fn company_domain(&self) -> Option<&str> {
        let (_, domain) = self.email.split_once('@')?;
        (!is_free_mail_domain(domain)).then_some(domain)
    }

    /// The names of the fields that differ between `self` and `after`, in field order.
    pub fn changed_fields(&self, after: &LeadProfile) -> Vec<String> {
        let (a, b) = (self, after);
        let same: [(&str, bool); 19] = [
            ("email", a.email == b.email),
            ("first_name", a.first_name == b.first_name),
            ("last_name", a.last_name == b.last_name),
            ("title", a.title == b.title),
            ("phone", a.phone == b.phone),
            ("company", a.company == b.company),
            ("source", a.source == b.source),
            ("campaign_id", a.campaign_id == b.campaign_id),
            ("anonymous_id", a.anonymous_id == b.anonymous_id),
            ("affiliate_id", a.affiliate_id == b.affiliate_id),
            ("utm_source", a.utm.utm_source == b.utm.utm_source),
            ("utm_medium", a.utm.utm_medium == b.utm.utm_medium),
            ("utm_campaign", a.utm.utm_campaign == b.utm.utm_campaign),
            ("utm_term", a.utm.utm_term == b.utm.utm_term),
            ("utm_content", a.utm.utm_content == b.utm.utm_content),
            ("account_id", a.account_id == b.account_id),
            ("owner", a.owner == b.owner),
            ("consent", a.consent == b.consent),
            ("properties", a.properties == b.properties),
        ];
        same.iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// Takes in a duplicate of this lead: each empty field is filled from it, and consent
    /// given to either counts. The email, source and properties stay this lead's.
    pub fn absorb(&mut self, duplicate: &LeadProfile) {
        fn fill<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
        let d = duplicate;
        fill(&mut self.first_name, &d.first_name);
        fill(&mut self.last_name, &d.last_name);
        fill(&mut self.title, &d.title);
        fill(&mut self.phone, &d.phone);
        fill(&mut self.company, &d.company);
        fill(&mut self.campaign_id, &d.campaign_id);
        fill(&mut self.anonymous_id, &d.anonymous_id);
        fill(&mut self.affiliate_id, &d.affiliate_id);
        fill(&mut self.utm.utm_source, &d.utm.utm_source);
        fill(&mut self.utm.utm_medium, &d.utm.utm_medium);
        fill(&mut self.utm.utm_campaign, &d.utm.utm_campaign);
        fill(&mut self.utm.utm_term, &d.utm.utm_term);
        fill(&mut self.utm.utm_content, &d.utm.utm_content);
        fill(&mut self.account_id, &d.account_id);
        fill(&mut self.owner, &d.owner);
        self.consent = self.consent || d.consent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> LeadDraft {
        LeadDraft {
            email: Some("Grace@Hopper.dev".into()),
            source: Some("webinar".into()),
            ..Default::default()
        }
    }

    fn fields(invalid: &Invalid) -> Vec<&str> {
        invalid.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn parses_a_minimal_lead() {
        let lead = NewLead::parse(input()).unwrap();
        assert_eq!(lead.profile.email, "grace@hopper.dev");
        assert_eq!(lead.profile.source, LeadSource::Webinar.as_str());
        assert_eq!(lead.profile.first_name, None);
        assert_eq!(lead.lifecycle_stage, Stage::Lead);
    }

    #[test]
    fn reports_every_bad_field() {
        let invalid = NewLead::parse(LeadDraft {
            email: Some("nope".into()),
            source: None,
            title: Some("x".repeat(201)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(&invalid), ["email", "source", "title"]);
    }

    #[test]
    fn affiliate_leads_need_an_affiliate_id() {
        let mut i = input();
        i.source = Some("affiliate".into());
        let invalid = NewLead::parse(i.clone()).unwrap_err();
        assert_eq!(fields(&invalid), ["affiliate_id"]);
        i.affiliate_id = Some("aff-7".into());
        assert!(NewLead::parse(i).is_ok());
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut i = input();
        i.company = Some("   ".into());
        assert_eq!(NewLead::parse(i).unwrap().profile.company, None);
    }

    #[test]
    fn free_mail_never_names_a_company() {
        let mut p = NewLead::parse(input()).unwrap().profile;
        assert_eq!(p.company_domain(), Some("hopper.dev"));
        p.email = "grace@gmail.com".into();
        assert_eq!(p.company_domain(), None);
    }

    #[test]
    fn changed_fields_name_each_difference_in_order() {
        let before = NewLead::parse(input()).unwrap().profile;
        let mut after = before.clone();
        assert!(before.changed_fields(&after).is_empty());
        after.utm.utm_term = Some("crm".into());
        after.consent = true;
        after.title = Some("CTO".into());
        assert_eq!(
            before.changed_fields(&after),
            ["title", "utm_term", "consent"]
        );
    }

    #[test]
    fn a_draft_over_a_profile_keeps_what_it_does_not_give() {
        let mut base = NewLead::parse(input()).unwrap().profile;
        base.title = Some("Admiral".into());
        base.company = Some("Navy".into());
        let draft = LeadDraft {
            email: Some("grace@hopper.dev".into()),
            title: Some("Rear admiral".into()),
            lifecycle_stage: Some("subscriber".into()),
            ..Default::default()
        };
        let merged = NewLead::parse(draft.over(base.clone())).unwrap();
        assert_eq!(merged.profile.title.as_deref(), Some("Rear admiral"));
        assert_eq!(merged.profile.company.as_deref(), Some("Navy"));
        assert_eq!(merged.profile.source, base.source);
        assert_eq!(base.changed_fields(&merged.profile), ["title"]);
    }

    #[test]
    fn absorbing_a_duplicate_fills_only_the_gaps() {
        let mut survivor = NewLead::parse(input()).unwrap().profile;
        survivor.title = Some("Admiral".into());
        let duplicate = LeadProfile {
            email: "other@hopper.dev".into(),
            title: Some("Rear admiral".into()),
            company: Some("Navy".into()),
            consent: true,
            ..Default::default()
        };
        survivor.absorb(&duplicate);
        assert_eq!(survivor.email, "grace@hopper.dev");
        assert_eq!(survivor.title.as_deref(), Some("Admiral"));
        assert_eq!(survivor.company.as_deref(), Some("Navy"));
        assert!(survivor.consent);
    }
}
