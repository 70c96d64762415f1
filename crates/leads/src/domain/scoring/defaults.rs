//! The built-in scoring model, the first version until marketing saves its own.

use super::fit::Condition;
use super::model::{
    Bands, EngagementPoints, FitRule, MqlThreshold, ScoringModel, default_half_life_days,
};

impl ScoringModel {
    /// A sensible starting model for B2B marketing; it passes [`ScoringModel::validate`].
    pub fn default_model() -> ScoringModel {
        fn rule(name: &str, condition: Condition, points: f64) -> FitRule {
            FitRule {
                name: name.to_string(),
                condition,
                points,
            }
        }
        fn words(ws: &[&str]) -> Vec<String> {
            ws.iter().map(|w| w.to_string()).collect()
        }
        fn touch(touch_type: &str, channel: Option<&str>, points: f64) -> EngagementPoints {
            EngagementPoints {
                touch_type: touch_type.to_string(),
                channel: channel.map(str::to_string),
                points,
            }
        }
        ScoringModel {
            fit_rules: vec![
                rule(
                    "senior title",
                    Condition::Title {
                        contains_any: words(&["vp", "head", "chief", "cmo", "director"]),
                    },
                    20.0,
                ),
                rule(
                    "manager title",
                    Condition::Title {
                        contains_any: words(&["manager"]),
                    },
                    10.0,
                ),
                rule(
                    "target industry",
                    Condition::Industry {
                        any_of: words(&["software", "fintech", "saas"]),
                    },
                    15.0,
                ),
                rule(
                    "mid-market or enterprise",
                    Condition::Employees {
                        min: Some(200),
                        max: Some(5000),
                    },
                    15.0,
                ),
                rule(
                    "small business",
                    Condition::Employees {
                        min: Some(50),
                        max: Some(199),
                    },
                    5.0,
                ),
                rule(
                    "served region",
                    Condition::Region {
                        any_of: words(&["emea", "na"]),
                    },
                    5.0,
                ),
                rule("abm target", Condition::AbmTarget { equals: true }, 15.0),
                rule(
                    "abm one-to-one",
                    Condition::AbmTier {
                        any_of: words(&["one_to_one"]),
                    },
                    15.0,
                ),
                rule(
                    "abm one-to-few",
                    Condition::AbmTier {
                        any_of: words(&["one_to_few"]),
                    },
                    10.0,
                ),
            ],
            engagement_points: vec![
                touch("form_submit", None, 10.0),
                touch("form_submit", Some("webinar"), 15.0),
                touch("meeting", None, 15.0),
                touch("call", None, 10.0),
                touch("download", None, 5.0),
                touch("email_click", None, 3.0),
                touch("visit", None, 2.0),
                touch("click", None, 2.0),
                touch("email_open", None, 1.0),
                touch("page_view", None, 1.0),
                touch("app_open", None, 1.0),
                touch("impression", None, 0.0),
                touch("viewable_impression", None, 0.0),
            ],
            half_life_days: default_half_life_days(),
            fit_bands: Bands { a: 60.0, b: 30.0 },
            engagement_bands: Bands { a: 50.0, b: 20.0 },
            mql: MqlThreshold {
                min_fit: 30.0,
                min_engagement: 20.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_valid() {
        ScoringModel::default_model().validate().unwrap();
    }

    #[test]
    fn the_default_model_scores_every_published_touch_type() {
        let m = ScoringModel::default_model();
        for touch_type in contracts::touchpoints::TOUCH_TYPES {
            assert!(
                m.touch_points(touch_type, "direct").is_some(),
                "{touch_type}"
            );
        }
    }
}
