//! Fit rules' conditions on a lead's attributes and those of its account.

use serde::{Deserialize, Serialize};

/// ABM tiers a rule may name; a lead without a tier counts as `none`.
pub(super) const ABM_TIERS: [&str; 4] = ["one_to_one", "one_to_few", "one_to_many", "none"];

/// The attribute a fit rule looks at, and how. Text comparisons ignore case and surrounding
/// whitespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "attribute", rename_all = "snake_case")]
pub enum Condition {
    /// The title contains any of these words.
    Title { contains_any: Vec<String> },
    /// The industry is one of these.
    Industry { any_of: Vec<String> },
    /// The head count lies in this inclusive range; at least one bound is set.
    Employees {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// The region is one of these.
    Region { any_of: Vec<String> },
    /// The lead's account is, or is not, an ABM target.
    AbmTarget { equals: bool },
    /// The account's ABM tier is one of `one_to_one`, `one_to_few`, `one_to_many`, `none`.
    AbmTier { any_of: Vec<String> },
}

/// What fit rules look at: the lead's attributes and those of its account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FitFacts {
    pub title: Option<String>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub region: Option<String>,
    pub abm_target: bool,
    pub abm_tier: Option<String>,
}

/// A fit rule that matched a lead, kept so that a score can be explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredRule {
    pub name: String,
    pub points: f64,
}

pub(super) fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

fn equals_any(value: Option<&str>, candidates: &[String]) -> bool {
    value.is_some_and(|v| {
        let v = normalize(v);
        candidates.iter().any(|c| normalize(c) == v)
    })
}

impl Condition {
    /// Whether a lead with these facts meets the condition. A missing fact never matches,
    /// except that a missing ABM tier is the tier `none`.
    pub fn matches(&self, facts: &FitFacts) -> bool {
        match self {
            Condition::Title { contains_any } => facts.title.as_deref().is_some_and(|t| {
                let title = normalize(t);
                contains_any.iter().any(|w| title.contains(&normalize(w)))
            }),
            Condition::Industry { any_of } => equals_any(facts.industry.as_deref(), any_of),
            Condition::Employees { min, max } => facts
                .employees
                .is_some_and(|n| min.is_none_or(|min| n >= min) && max.is_none_or(|max| n <= max)),
            Condition::Region { any_of } => equals_any(facts.region.as_deref(), any_of),
            Condition::AbmTarget { equals } => facts.abm_target == *equals,
            Condition::AbmTier { any_of } => {
                equals_any(Some(facts.abm_tier.as_deref().unwrap_or("none")), any_of)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employee_ranges_are_inclusive_and_may_be_open() {
        let facts = |n| FitFacts {
            employees: Some(n),
            ..Default::default()
        };
        let range = Condition::Employees {
            min: Some(50),
            max: Some(199),
        };
        assert!(!range.matches(&facts(49)));
        assert!(range.matches(&facts(50)));
        assert!(range.matches(&facts(199)));
        assert!(!range.matches(&facts(200)));
        let at_least = Condition::Employees {
            min: Some(1000),
            max: None,
        };
        assert!(at_least.matches(&facts(1_000_000)));
        assert!(!at_least.matches(&FitFacts::default()));
    }

    #[test]
    fn a_lead_without_an_abm_tier_is_tier_none() {
        let none = Condition::AbmTier {
            any_of: vec!["none".into()],
        };
        assert!(none.matches(&FitFacts::default()));
        let not_target = Condition::AbmTarget { equals: false };
        assert!(not_target.matches(&FitFacts::default()));
    }

    #[test]
    fn abm_tiers_match_the_published_contract() {
        assert_eq!(ABM_TIERS, contracts::leads::ABM_TIERS);
    }
}
