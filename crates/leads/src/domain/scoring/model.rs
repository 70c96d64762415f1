//! The scoring model: fit rules, engagement points, the half-life, grade bands and the MQL
//! threshold; and what it says about a lead's attributes and scores.

use serde::{Deserialize, Serialize};

use super::fit::{Condition, FiredRule, FitFacts};
use super::grade::Grade;

/// The half-life of a model that names none.
pub fn default_half_life_days() -> f64 {
    30.0
}

/// Everything that turns a lead's attributes and touches into a score and a grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringModel {
    /// Every rule that matches a lead adds its points to the fit score.
    pub fit_rules: Vec<FitRule>,
    /// Points a touch adds to the engagement score, by touch type and optionally channel.
    pub engagement_points: Vec<EngagementPoints>,
    /// Days after which engagement points are worth half as much. Defaults to 30.
    #[serde(default = "default_half_life_days")]
    pub half_life_days: f64,
    /// Fit at or above `a` grades `A`, at or above `b` grades `B`, else `C`.
    pub fit_bands: Bands,
    /// Engagement at or above `a` grades `1`, at or above `b` grades `2`, else `3`.
    pub engagement_bands: Bands,
    /// Scores at which a lead is promoted to `mql` automatically.
    pub mql: MqlThreshold,
}

/// Two thresholds splitting a score into three bands; `a` is the upper one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub a: f64,
    pub b: f64,
}

/// A lead qualifies as an MQL when both scores reach these minimums.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqlThreshold {
    pub min_fit: f64,
    pub min_engagement: f64,
}

/// A named condition on a lead's attributes and the points it is worth. Points may be
/// negative, to mark a poor fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRule {
    pub name: String,
    #[serde(flatten)]
    pub condition: Condition,
    pub points: f64,
}

/// Points for a touch of `touch_type`, on `channel` only, or on any channel when it is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementPoints {
    pub touch_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub points: f64,
}

impl ScoringModel {
    /// The fit score of a lead: the sum of the points of every matching rule, and those
    /// rules, in model order.
    pub fn fit(&self, facts: &FitFacts) -> (f64, Vec<FiredRule>) {
        let fired: Vec<FiredRule> = self
            .fit_rules
            .iter()
            .filter(|rule| rule.condition.matches(facts))
            .map(|rule| FiredRule {
                name: rule.name.clone(),
                points: rule.points,
            })
            .collect();
        (fired.iter().map(|r| r.points).sum(), fired)
    }

    /// Points for one touch, before decay. An entry for this exact channel wins over one for
    /// any channel; `None` when the model does not score this touch type at all.
    pub fn touch_points(&self, touch_type: &str, channel: &str) -> Option<f64> {
        let touch_type = touch_type.trim();
        let channel = channel.trim();
        let mut any_channel = None;
        for entry in &self.engagement_points {
            if !entry.touch_type.trim().eq_ignore_ascii_case(touch_type) {
                continue;
            }
            match entry.channel.as_deref() {
                Some(c) if c.trim().eq_ignore_ascii_case(channel) => return Some(entry.points),
                Some(_) => {}
                None => any_channel = any_channel.or(Some(entry.points)),
            }
        }
        any_channel
    }

    /// The grade of a pair of scores; a score exactly on a threshold gets the better band.
    pub fn grade(&self, fit: f64, engagement: f64) -> Grade {
        let fit_band = if fit >= self.fit_bands.a {
            'A'
        } else if fit >= self.fit_bands.b {
            'B'
        } else {
            'C'
        };
        let engagement_band = if engagement >= self.engagement_bands.a {
            1
        } else if engagement >= self.engagement_bands.b {
            2
        } else {
            3
        };
        Grade {
            fit: fit_band,
            engagement: engagement_band,
        }
    }

    /// Whether both scores reach the MQL thresholds.
    pub fn qualifies_for_mql(&self, fit: f64, engagement: f64) -> bool {
        fit >= self.mql.min_fit && engagement >= self.mql.min_engagement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_band_edges() {
        let m = ScoringModel::default_model(); // fit a=60 b=30, engagement a=50 b=20
        assert_eq!(m.grade(60.0, 50.0).to_string(), "A1");
        assert_eq!(m.grade(59.999, 49.999).to_string(), "B2");
        assert_eq!(m.grade(30.0, 20.0).to_string(), "B2");
        assert_eq!(m.grade(29.999, 19.999).to_string(), "C3");
        assert_eq!(m.grade(-5.0, 0.0).to_string(), "C3");
        assert_eq!(m.grade(100.0, 0.0).to_string(), "A3");
        assert_eq!(m.grade(0.0, 100.0).to_string(), "C1");
    }

    #[test]
    fn mql_needs_both_thresholds() {
        let m = ScoringModel::default_model(); // min_fit 30, min_engagement 20
        assert!(m.qualifies_for_mql(30.0, 20.0));
        assert!(!m.qualifies_for_mql(29.999, 100.0));
        assert!(!m.qualifies_for_mql(100.0, 19.999));
    }

    #[test]
    fn fit_rules_on_a_hand_worked_lead() {
        let m = ScoringModel::default_model();
        let facts = FitFacts {
            title: Some("  VP Marketing & Product Manager ".into()),
            industry: Some("SaaS".into()),
            employees: Some(200),
            region: Some("apac".into()),
            abm_target: true,
            abm_tier: Some("one_to_few".into()),
        };
        let (total, fired) = m.fit(&facts);
        let names: Vec<&str> = fired.iter().map(|r| r.name.as_str()).collect();
        // senior title 20 + manager title 10 + industry 15 + 200 employees 15 + abm 15 +
        // one-to-few 10; apac is not a served region.
        assert_eq!(
            names,
            [
                "senior title",
                "manager title",
                "target industry",
                "mid-market or enterprise",
                "abm target",
                "abm one-to-few",
            ]
        );
        assert_eq!(total, 85.0);
        assert_eq!(m.grade(total, 0.0).fit, 'A');
    }

    #[test]
    fn an_empty_lead_fires_nothing() {
        let (total, fired) = ScoringModel::default_model().fit(&FitFacts::default());
        assert_eq!(total, 0.0);
        assert!(fired.is_empty());
    }

    #[test]
    fn a_channel_specific_entry_wins_over_the_generic_one() {
        let m = ScoringModel::default_model();
        assert_eq!(m.touch_points("form_submit", "webinar"), Some(15.0));
        assert_eq!(m.touch_points("form_submit", "email"), Some(10.0));
        assert_eq!(m.touch_points("impression", "display"), Some(0.0));
        assert_eq!(m.touch_points("telepathy", "email"), None);

        // The specific entry wins wherever it sits in the list.
        let mut m = m;
        m.engagement_points = vec![
            EngagementPoints {
                touch_type: "call".into(),
                channel: Some("sales_call".into()),
                points: 25.0,
            },
            EngagementPoints {
                touch_type: "call".into(),
                channel: None,
                points: 10.0,
            },
            EngagementPoints {
                touch_type: "meeting".into(),
                channel: Some("event".into()),
                points: 30.0,
            },
        ];
        assert_eq!(m.touch_points("call", "sales_call"), Some(25.0));
        assert_eq!(m.touch_points("call", "direct"), Some(10.0));
        assert_eq!(m.touch_points("meeting", "event"), Some(30.0));
        assert_eq!(m.touch_points("meeting", "webinar"), None);
    }

    #[test]
    fn the_default_model_survives_a_json_round_trip() {
        let m = ScoringModel::default_model();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<ScoringModel>(&json).unwrap(), m);
    }

    #[test]
    fn a_hand_written_model_with_every_condition_parses() {
        let json = r#"{
            "fit_rules": [
                {"name": "exec", "attribute": "title", "contains_any": ["CEO", "founder"], "points": 25},
                {"name": "fintech", "attribute": "industry", "any_of": ["fintech"], "points": 10.5},
                {"name": "big", "attribute": "employees", "min": 1000, "points": 20},
                {"name": "tiny", "attribute": "employees", "max": 10, "points": -10},
                {"name": "dach", "attribute": "region", "any_of": ["dach"], "points": 5},
                {"name": "abm", "attribute": "abm_target", "equals": true, "points": 15},
                {"name": "1:1", "attribute": "abm_tier", "any_of": ["one_to_one"], "points": 15}
            ],
            "engagement_points": [
                {"touch_type": "meeting", "points": 15},
                {"touch_type": "visit", "channel": "event", "points": 8}
            ],
            "fit_bands": {"a": 50, "b": 25},
            "engagement_bands": {"a": 40, "b": 10},
            "mql": {"min_fit": 25, "min_engagement": 10}
        }"#;
        let m: ScoringModel = serde_json::from_str(json).unwrap();
        m.validate().unwrap();
        assert_eq!(m.half_life_days, 30.0, "the half-life defaults to 30 days");
        let conditions: Vec<&Condition> = m.fit_rules.iter().map(|r| &r.condition).collect();
        assert_eq!(
            conditions,
            [
                &Condition::Title {
                    contains_any: vec!["CEO".into(), "founder".into()]
                },
                &Condition::Industry {
                    any_of: vec!["fintech".into()]
                },
                &Condition::Employees {
                    min: Some(1000),
                    max: None
                },
                &Condition::Employees {
                    min: None,
                    max: Some(10)
                },
                &Condition::Region {
                    any_of: vec!["dach".into()]
                },
                &Condition::AbmTarget { equals: true },
                &Condition::AbmTier {
                    any_of: vec!["one_to_one".into()]
                },
            ]
        );
        assert_eq!(m.fit_rules[1].points, 10.5);
        assert_eq!(m.fit_rules[3].points, -10.0);
        assert_eq!(m.engagement_points[1].channel.as_deref(), Some("event"));

        // Back to JSON and again gives the same model, with the tag beside the rule name.
        let value = serde_json::to_value(&m).unwrap();
        assert_eq!(value["fit_rules"][2]["attribute"], "employees");
        assert!(value["fit_rules"][2].get("max").is_none());
        assert_eq!(serde_json::from_value::<ScoringModel>(value).unwrap(), m);
    }

    #[test]
    fn unknown_fields_and_attributes_are_rejected() {
        let mut value = serde_json::to_value(ScoringModel::default_model()).unwrap();
        value["half_life_day"] = serde_json::json!(7);
        assert!(serde_json::from_value::<ScoringModel>(value).is_err());

        let rule = r#"{"name": "x", "attribute": "shoe_size", "any_of": ["44"], "points": 1}"#;
        assert!(serde_json::from_str::<FitRule>(rule).is_err());
    }
}
