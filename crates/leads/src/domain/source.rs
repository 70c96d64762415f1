//! Where a lead came from: one taxonomy across inbound, outbound, affiliate and paid.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadSource {
    OrganicSearch,
    Content,
    Webinar,
    Referral,
    Direct,
    Sdr,
    Event,
    Affiliate,
    PaidSearch,
    PaidSocial,
    ProgrammaticDisplay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceCategory {
    Inbound,
    Outbound,
    Affiliate,
    Paid,
}

impl LeadSource {
    pub const ALL: [LeadSource; 11] = [
        LeadSource::OrganicSearch,
        LeadSource::Content,
        LeadSource::Webinar,
        LeadSource::Referral,
        LeadSource::Direct,
        LeadSource::Sdr,
        LeadSource::Event,
        LeadSource::Affiliate,
        LeadSource::PaidSearch,
        LeadSource::PaidSocial,
        LeadSource::ProgrammaticDisplay,
    ];

    pub fn parse(s: &str) -> Result<LeadSource, String> {
        LeadSource::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = LeadSource::ALL.iter().map(|v| v.as_str()).collect();
                format!("unknown source {s:?}; expected one of {}", names.join(", "))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeadSource::OrganicSearch => "organic_search",
            LeadSource::Content => "content",
            LeadSource::Webinar => "webinar",
            LeadSource::Referral => "referral",
            LeadSource::Direct => "direct",
            LeadSource::Sdr => "sdr",
            LeadSource::Event => "event",
            LeadSource::Affiliate => "affiliate",
            LeadSource::PaidSearch => "paid_search",
            LeadSource::PaidSocial => "paid_social",
            LeadSource::ProgrammaticDisplay => "programmatic_display",
        }
    }

    pub fn category(self) -> SourceCategory {
        match self {
            LeadSource::OrganicSearch
            | LeadSource::Content
            | LeadSource::Webinar
            | LeadSource::Referral
            | LeadSource::Direct => SourceCategory::Inbound,
            LeadSource::Sdr | LeadSource::Event => SourceCategory::Outbound,
            LeadSource::Affiliate => SourceCategory::Affiliate,
            LeadSource::PaidSearch | LeadSource::PaidSocial | LeadSource::ProgrammaticDisplay => {
                SourceCategory::Paid
            }
        }
    }
}

impl fmt::Display for LeadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_round_trips_and_has_its_category() {
        for s in LeadSource::ALL {
            assert_eq!(LeadSource::parse(s.as_str()), Ok(s));
        }
        assert_eq!(LeadSource::Sdr.category(), SourceCategory::Outbound);
        assert_eq!(LeadSource::Webinar.category(), SourceCategory::Inbound);
        assert_eq!(
            LeadSource::ProgrammaticDisplay.category(),
            SourceCategory::Paid
        );
        assert_eq!(LeadSource::Affiliate.category(), SourceCategory::Affiliate);
    }

    #[test]
    fn unknown_sources_are_rejected_with_the_choices() {
        let err = LeadSource::parse("billboard").unwrap_err();
        assert!(err.contains("organic_search"), "{err}");
        assert!(LeadSource::parse("Organic_Search").is_err());
    }
}
