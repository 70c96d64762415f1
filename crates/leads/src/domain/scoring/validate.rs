//! Checking a scoring model before it is saved: every problem reported at once, by field.

use std::collections::HashMap;

use platform::validation::{FieldErrors, Invalid};

use super::fit::{ABM_TIERS, Condition, normalize};
use super::model::{Bands, ScoringModel};

impl ScoringModel {
    /// Checks the whole model and reports every problem at once, with field paths such as
    /// `fit_rules[2].points`, `half_life_days` or `fit_bands.a`. Condition fields sit beside
    /// the rule's name in JSON, so their paths are e.g. `fit_rules[3].min`.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = FieldErrors::new();

        let mut rule_names: HashMap<String, usize> = HashMap::new();
        for (i, rule) in self.fit_rules.iter().enumerate() {
            let at = format!("fit_rules[{i}]");
            let name = rule.name.trim();
            if name.is_empty() {
                errors.add(&format!("{at}.name"), "must not be blank");
            } else if let Some(first) = rule_names.insert(normalize(name), i) {
                errors.add(
                    &format!("{at}.name"),
                    format!("duplicates the name of fit_rules[{first}]"),
                );
            }
            points(&mut errors, &format!("{at}.points"), rule.points);
            validate_condition(&mut errors, &at, &rule.condition);
        }

        let mut touches: HashMap<(String, Option<String>), usize> = HashMap::new();
        for (i, entry) in self.engagement_points.iter().enumerate() {
            let at = format!("engagement_points[{i}]");
            let touch_type = entry.touch_type.trim();
            if touch_type.is_empty() {
                errors.add(&format!("{at}.touch_type"), "must not be blank");
            }
            let channel = entry.channel.as_deref().map(str::trim);
            if channel == Some("") {
                errors.add(
                    &format!("{at}.channel"),
                    "must not be blank; leave it out to match every channel",
                );
            }
            if !touch_type.is_empty() && channel != Some("") {
                let key = (normalize(touch_type), channel.map(normalize));
                if let Some(first) = touches.insert(key, i) {
                    errors.add(
                        &at,
                        format!(
                            "duplicates the touch type and channel of engagement_points[{first}]"
                        ),
                    );
                }
            }
            points(&mut errors, &format!("{at}.points"), entry.points);
        }

        if !(MIN_HALF_LIFE_DAYS..=MAX_HALF_LIFE_DAYS).contains(&self.half_life_days) {
            errors.add(
                "half_life_days",
                format!("must be a number from {MIN_HALF_LIFE_DAYS} to {MAX_HALF_LIFE_DAYS}"),
            );
        }
        validate_bands(&mut errors, "fit_bands", self.fit_bands);
        validate_bands(&mut errors, "engagement_bands", self.engagement_bands);
        finite(&mut errors, "mql.min_fit", self.mql.min_fit);
        finite(&mut errors, "mql.min_engagement", self.mql.min_engagement);

        errors.check()
    }
}

/// Largest points a rule or a touch may add (either sign). Scores are sums of points, and
/// a sum past f64's range is infinite, which JSON cannot carry (it came out as `null`).
pub const MAX_POINTS: f64 = 1_000_000.0;
/// Bounds of the half-life: below an hour or so every score decays to nothing at once, and
/// a shorter one overflows the decay's exponent.
pub const MIN_HALF_LIFE_DAYS: f64 = 0.01;
pub const MAX_HALF_LIFE_DAYS: f64 = 36_500.0;

fn points(errors: &mut FieldErrors, field: &str, value: f64) {
    if !(value.is_finite() && value.abs() <= MAX_POINTS) {
        errors.add(
            field,
            format!("must be a number from -{MAX_POINTS} to {MAX_POINTS}"),
        );
    }
}

fn finite(errors: &mut FieldErrors, field: &str, value: f64) {
    if !value.is_finite() {
        errors.add(field, "must be a finite number");
    }
}

fn validate_bands(errors: &mut FieldErrors, at: &str, bands: Bands) {
    if !bands.a.is_finite() {
        errors.add(&format!("{at}.a"), "must be a finite number");
    }
    if !(bands.b.is_finite() && bands.b >= 0.0) {
        errors.add(&format!("{at}.b"), "must be a finite number, at least 0");
    } else if bands.a.is_finite() && bands.a <= bands.b {
        errors.add(&format!("{at}.a"), "must be greater than b");
    }
}

fn validate_condition(errors: &mut FieldErrors, at: &str, condition: &Condition) {
    let mut words = |field: &str, list: &[String], allowed: Option<&[&str]>| {
        if list.is_empty() {
            errors.add(&format!("{at}.{field}"), "must not be empty");
        }
        for (j, word) in list.iter().enumerate() {
            let word = normalize(word);
            if word.is_empty() {
                errors.add(&format!("{at}.{field}[{j}]"), "must not be blank");
            } else if let Some(allowed) = allowed
                && !allowed.contains(&word.as_str())
            {
                errors.add(
                    &format!("{at}.{field}[{j}]"),
                    format!("must be one of {}", allowed.join(", ")),
                );
            }
        }
    };
    match condition {
        Condition::Title { contains_any } => words("contains_any", contains_any, None),
        Condition::Industry { any_of } | Condition::Region { any_of } => {
            words("any_of", any_of, None)
        }
        Condition::AbmTier { any_of } => words("any_of", any_of, Some(&ABM_TIERS)),
        Condition::Employees { min, max } => match (min, max) {
            (None, None) => errors.add(&format!("{at}.min"), "min or max is required"),
            (Some(min), Some(max)) if min > max => {
                errors.add(&format!("{at}.max"), "must be at least min")
            }
            _ => {}
        },
        Condition::AbmTarget { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(invalid: &Invalid) -> Vec<&str> {
        invalid.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn validate_reports_every_bad_field() {
        let mut m = ScoringModel::default_model();
        m.fit_rules[0].points = f64::NAN;
        m.fit_rules[1].name = "  ".into();
        m.fit_rules[2].condition = Condition::Industry { any_of: vec![] };
        m.fit_rules[3].condition = Condition::Employees {
            min: None,
            max: None,
        };
        m.fit_rules[4].condition = Condition::Employees {
            min: Some(10),
            max: Some(9),
        };
        m.fit_rules[5].condition = Condition::Region {
            any_of: vec!["emea".into(), " ".into()],
        };
        m.fit_rules[6].name = "Senior Title".into();
        m.fit_rules[7].condition = Condition::AbmTier {
            any_of: vec!["one_to_all".into()],
        };
        m.engagement_points[0].points = f64::INFINITY;
        m.engagement_points[1].channel = Some("".into());
        m.engagement_points[2].touch_type = "call".into();
        m.half_life_days = 0.0;
        m.fit_bands = Bands { a: 30.0, b: 30.0 };
        m.engagement_bands = Bands { a: 50.0, b: -1.0 };
        m.mql.min_engagement = f64::NAN;

        let invalid = m.validate().unwrap_err();
        assert_eq!(
            fields(&invalid),
            [
                "fit_rules[0].points",
                "fit_rules[1].name",
                "fit_rules[2].any_of",
                "fit_rules[3].min",
                "fit_rules[4].max",
                "fit_rules[5].any_of[1]",
                "fit_rules[6].name",
                "fit_rules[7].any_of[0]",
                "engagement_points[0].points",
                "engagement_points[1].channel",
                "engagement_points[3]",
                "half_life_days",
                "fit_bands.a",
                "engagement_bands.b",
                "mql.min_engagement",
            ]
        );
    }

    #[test]
    fn validate_rejects_a_blank_touch_type_and_infinite_bands() {
        let mut m = ScoringModel::default_model();
        m.engagement_points[0].touch_type = " ".into();
        m.half_life_days = f64::INFINITY;
        m.fit_bands = Bands {
            a: f64::INFINITY,
            b: 0.0,
        };
        let invalid = m.validate().unwrap_err();
        assert_eq!(
            fields(&invalid),
            [
                "engagement_points[0].touch_type",
                "half_life_days",
                "fit_bands.a"
            ]
        );
    }

    #[test]
    fn validate_bounds_points_and_the_half_life() {
        let mut m = ScoringModel::default_model();
        m.fit_rules[0].points = 1.7e308;
        m.engagement_points[0].points = -MAX_POINTS - 1.0;
        m.half_life_days = 1e-300;
        let invalid = m.validate().unwrap_err();
        assert_eq!(
            fields(&invalid),
            [
                "fit_rules[0].points",
                "engagement_points[0].points",
                "half_life_days"
            ]
        );
        m.fit_rules[0].points = MAX_POINTS;
        m.engagement_points[0].points = -MAX_POINTS;
        m.half_life_days = MAX_HALF_LIFE_DAYS;
        assert!(m.validate().is_ok());
    }
}
