//! Lead scoring: a data-driven model of fit rules and engagement points, half-life decay, and grades.
//!
//! The model is stored as JSON and versioned by the caller, so marketing can change the rules
//! without a release. Nothing here knows about versions, storage or events.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use platform::http::FieldErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// ABM tiers a rule may name; a lead without a tier counts as `none`.
const ABM_TIERS: [&str; 4] = ["one_to_one", "one_to_few", "one_to_many", "none"];

const SECONDS_PER_DAY: f64 = 86_400.0;

fn default_half_life_days() -> f64 {
    30.0
}

/// Everything that turns a lead's attributes and touches into a score and a grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub a: f64,
    pub b: f64,
}

/// A lead qualifies as an MQL when both scores reach these minimums.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MqlThreshold {
    pub min_fit: f64,
    pub min_engagement: f64,
}

/// A named condition on a lead's attributes and the points it is worth. Points may be
/// negative, to mark a poor fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FitRule {
    pub name: String,
    #[serde(flatten)]
    pub condition: Condition,
    pub points: f64,
}

/// The attribute a fit rule looks at, and how. Text comparisons ignore case and surrounding
/// whitespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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

/// Points for a touch of `touch_type`, on `channel` only, or on any channel when it is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementPoints {
    pub touch_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub points: f64,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FiredRule {
    pub name: String,
    pub points: f64,
}

fn normalize(s: &str) -> String {
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

    /// Checks the whole model and reports every problem at once, with field paths such as
    /// `fit_rules[2].points`, `half_life_days` or `fit_bands.a`. Condition fields sit beside
    /// the rule's name in JSON, so their paths are e.g. `fit_rules[3].min`.
    pub fn validate(&self) -> Result<(), platform::Problem> {
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

        errors.finish()
    }

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

/// The value at `to` of `points` earned at `from`: `points * 2^(-(to - from) / half_life)`.
///
/// When `to` is before `from` the elapsed time counts as zero: points never grow.
/// `half_life_days` must be positive, which [`ScoringModel::validate`] guarantees.
pub fn decay(points: f64, from: DateTime<Utc>, to: DateTime<Utc>, half_life_days: f64) -> f64 {
    let elapsed = to - from;
    if elapsed <= chrono::TimeDelta::zero() {
        return points;
    }
    let days =
        (elapsed.num_seconds() as f64 + f64::from(elapsed.subsec_nanos()) * 1e-9) / SECONDS_PER_DAY;
    points * (-days / half_life_days).exp2()
}

/// An engagement score kept as its value at `as_of`, so that it can be updated one touch at a
/// time and read at any later moment.
///
/// Decay is multiplicative, so touches may arrive in any order, late ones included, and the
/// score is the same as if each touch's points had been decayed on their own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Engagement {
    pub value: f64,
    pub as_of: DateTime<Utc>,
}

impl Engagement {
    pub fn zero(at: DateTime<Utc>) -> Self {
        Engagement {
            value: 0.0,
            as_of: at,
        }
    }

    /// Adds `points` earned at `at`. A touch newer than the score moves `as_of` forward; an
    /// older one is decayed to `as_of` before it is added.
    #[must_use]
    pub fn add(self, points: f64, at: DateTime<Utc>, half_life_days: f64) -> Engagement {
        if at >= self.as_of {
            Engagement {
                value: decay(self.value, self.as_of, at, half_life_days) + points,
                as_of: at,
            }
        } else {
            Engagement {
                value: self.value + decay(points, at, self.as_of, half_life_days),
                as_of: self.as_of,
            }
        }
    }

    /// The score at `now`; a moment before `as_of` sees the value at `as_of`.
    pub fn value_at(&self, now: DateTime<Utc>, half_life_days: f64) -> f64 {
        decay(self.value, self.as_of, now, half_life_days)
    }
}

/// A lead's grade: fit band `A`/`B`/`C` and engagement band `1`/`2`/`3`. Written `A1`, on the
/// wire too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade {
    /// `A`, `B` or `C`.
    pub fit: char,
    /// 1, 2 or 3.
    pub engagement: u8,
}

impl Grade {
    /// All nine grades, best first.
    pub const ALL: [&'static str; 9] = ["A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3"];
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.fit, self.engagement)
    }
}

impl FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Grade, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some(fit @ 'A'..='C'), Some(e @ '1'..='3'), None) => Ok(Grade {
                fit,
                engagement: e as u8 - b'0',
            }),
            _ => Err(format!(
                "invalid grade {s:?}: expected A, B or C followed by 1, 2 or 3, e.g. A1"
            )),
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Grade, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// Hand-written because the wire form is the string `A1`, not the struct's fields.
impl utoipa::PartialSchema for Grade {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some(
                "Fit band A, B or C followed by engagement band 1, 2 or 3.",
            ))
            .enum_values(Some(Grade::ALL))
            .examples(["A1"])
            .into()
    }
}

impl utoipa::ToSchema for Grade {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const EPS: f64 = 1e-9;

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::days(d)
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < EPS
    }

    fn fields(p: &platform::Problem) -> Vec<&str> {
        p.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn decay_halves_every_half_life() {
        assert!(close(decay(10.0, day(0), day(0), 30.0), 10.0));
        assert!(close(decay(10.0, day(0), day(30), 30.0), 5.0));
        assert!(close(decay(10.0, day(0), day(60), 30.0), 2.5));
        assert!(close(decay(10.0, day(10), day(17), 7.0), 5.0));
    }

    #[test]
    fn decay_counts_fractions_of_a_day() {
        let from = day(0);
        let to = from + chrono::TimeDelta::hours(12);
        // Half a day with a one-day half-life: 8 * 2^-0.5.
        assert!(close(decay(8.0, from, to, 1.0), 5.656854249492381));
    }

    #[test]
    fn decay_never_grows_points_backwards_in_time() {
        assert_eq!(decay(10.0, day(30), day(0), 30.0), 10.0);
    }

    #[test]
    fn engagement_is_the_same_whatever_order_touches_arrive_in() {
        let touches = [
            (10.0, day(0)),
            (3.0, day(12)),
            (15.0, day(45)),
            (1.0, day(45)),
        ];
        let now = day(90);
        let half_life = 30.0;
        // By hand: 10*2^-3 + 3*2^-2.6 + 15*2^-1.5 + 1*2^-1.5
        //        = 1.25 + 0.4948154665398353 + 5.656854249492381.
        let direct: f64 = touches
            .iter()
            .map(|&(points, at)| decay(points, at, now, half_life))
            .sum();
        assert!(close(direct, 7.401669716032216));

        let mut orders = 0;
        for_each_permutation(&mut [0, 1, 2, 3], 0, &mut |order| {
            orders += 1;
            let engagement = order.iter().fold(Engagement::zero(day(0)), |e, &i| {
                let (points, at) = touches[i];
                e.add(points, at, half_life)
            });
            let value = engagement.value_at(now, half_life);
            assert!(close(value, direct), "order {order:?}: {value} != {direct}");
            assert_eq!(engagement.as_of, day(45), "order {order:?}");
        });
        assert_eq!(orders, 24);
    }

    fn for_each_permutation(items: &mut [usize], k: usize, visit: &mut dyn FnMut(&[usize])) {
        if k == items.len() {
            visit(items);
            return;
        }
        for i in k..items.len() {
            items.swap(k, i);
            for_each_permutation(items, k + 1, visit);
            items.swap(k, i);
        }
    }

    #[test]
    fn a_touch_older_than_the_score_is_decayed_to_as_of() {
        let e = Engagement::zero(day(30)).add(10.0, day(0), 30.0);
        assert_eq!(e.as_of, day(30));
        assert!(close(e.value, 5.0));
        assert!(close(e.value_at(day(60), 30.0), 2.5));
        assert!(close(e.value_at(day(10), 30.0), 5.0));
    }

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

    #[test]
    fn abm_tiers_match_the_published_contract() {
        assert_eq!(ABM_TIERS, contracts::leads::ABM_TIERS);
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

        let p = m.validate().unwrap_err();
        assert_eq!(p.status, 422);
        assert_eq!(
            fields(&p),
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
        let p = m.validate().unwrap_err();
        assert_eq!(
            fields(&p),
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
        let p = m.validate().unwrap_err();
        assert_eq!(
            fields(&p),
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

    #[test]
    fn grades_are_strings_on_the_wire() {
        let g = Grade {
            fit: 'B',
            engagement: 1,
        };
        assert_eq!(g.to_string(), "B1");
        assert_eq!(serde_json::to_string(&g).unwrap(), "\"B1\"");
        assert_eq!(serde_json::from_str::<Grade>("\"B1\"").unwrap(), g);
        for s in Grade::ALL {
            assert_eq!(s.parse::<Grade>().unwrap().to_string(), s);
        }
        for bad in ["", "A", "D1", "A0", "A4", "a1", "A1 ", "A12"] {
            assert!(bad.parse::<Grade>().is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Grade>("\"Z9\"").is_err());
    }
}
