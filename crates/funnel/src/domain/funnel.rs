//! Funnel definitions: an ordered list of stages with optional steps, per-step windows and
//! minimum gaps. The last stage is the winning stage; `lost` is implicit in every funnel.

use std::collections::HashSet;
use std::fmt;

use platform::validation::{FieldErrors, Invalid};
use serde::{Deserialize, Serialize};

/// The stage every funnel can end in without winning.
pub const LOST: &str = "lost";

/// The pseudo lifecycle stage `lead.qualified` maps to (stages with `on_qualified`).
pub const QUALIFIED: &str = "(qualified)";

/// Lifecycle stages of the leads service that a funnel stage may mirror.
pub const LIFECYCLE_STAGES: [&str; 7] = [
    "subscriber",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "evangelist",
];

/// A span of time as written on the wire: a whole number and a unit, `90s`, `30m`, `12h`,
/// `14d` or `2w` (written back in the largest of days, hours, minutes or seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

impl Span {
    pub fn parse(s: &str) -> Result<Span, String> {
        let msg = || format!("'{s}' is not a duration like 90s, 30m, 12h, 14d or 2w");
        let s = s.trim();
        let unit = s.chars().last().ok_or_else(msg)?;
        let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| msg())?;
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(msg()),
        };
        if n <= 0 {
            return Err(format!("'{s}' must be positive"));
        }
        n.checked_mul(mult).map(Span).ok_or_else(msg)
    }

    pub fn from_secs(secs: i64) -> Span {
        Span(secs)
    }

    pub fn secs(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        for (mult, unit) in [(86_400, 'd'), (3600, 'h'), (60, 'm')] {
            if s % mult == 0 {
                return write!(f, "{}{unit}", s / mult);
            }
        }
        write!(f, "{s}s")
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let s = String::deserialize(d)?;
        Span::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A stage as the domain receives it, before validation (the API's wire form converts into
/// it; JSON deserialises straight into it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub name: Option<String>,
    #[serde(default)]
    pub optional: bool,
    /// Maximum time from the previous step, e.g. `14d`.
    pub window: Option<String>,
    /// Minimum time from the previous step, e.g. `1h`.
    pub min_gap: Option<String>,
    /// The leads lifecycle stage this stage mirrors: `lead.lifecycle_changed` to it advances
    /// linked deals here.
    pub lifecycle: Option<String>,
    /// `lead.qualified` advances linked deals to this stage.
    #[serde(default)]
    pub on_qualified: bool,
}

/// A funnel definition before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelInput {
    pub name: Option<String>,
    pub stages: Option<Vec<StageInput>>,
    /// Open a deal in the first stage when a lead is created. Default false.
    pub open_on_lead_created: Option<bool>,
}

/// A validated stage, as stored with its funnel version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gap: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_qualified: bool,
}

/// A validated funnel definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelDef {
    pub name: String,
    pub stages: Vec<Stage>,
    pub open_on_lead_created: bool,
}

impl FunnelDef {
    pub fn parse(input: FunnelInput) -> Result<FunnelDef, Invalid> {
        let mut errors = FieldErrors::new();
        let name = errors.require("name", input.name.map(|n| n.trim().to_string()));
        if name.as_deref() == Some("") {
            errors.add("name", "must not be empty");
        }
        let stages = errors
            .require("stages", input.stages)
            .map(|s| parse_stages(s, &mut errors))
            .unwrap_or_default();
        errors.check()?;
        Ok(FunnelDef {
            name: name.unwrap_or_default(),
            stages,
            open_on_lead_created: input.open_on_lead_created.unwrap_or(false),
        })
    }

    pub fn index_of(&self, stage: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == stage)
    }

    /// The winning stage: the last one.
    pub fn won_stage(&self) -> &str {
        &self.stages[self.stages.len() - 1].name
    }

    pub fn first_stage(&self) -> &str {
        &self.stages[0].name
    }

    pub fn is_terminal(&self, stage: &str) -> bool {
        stage == LOST || stage == self.won_stage()
    }

    /// Whether `stage` may be moved to: one of the stages, or `lost`.
    pub fn knows(&self, stage: &str) -> bool {
        stage == LOST || self.index_of(stage).is_some()
    }

    /// The stage mirroring a leads lifecycle stage, or [`QUALIFIED`]'s stage.
    pub fn mirroring(&self, lifecycle: &str) -> Option<usize> {
        self.stages.iter().position(|s| {
            if lifecycle == QUALIFIED {
                s.on_qualified
            } else {
                s.lifecycle.as_deref() == Some(lifecycle)
            }
        })
    }
}

fn parse_stages(inputs: Vec<StageInput>, errors: &mut FieldErrors) -> Vec<Stage> {
    if inputs.len() < 2 {
        errors.add("stages", "needs at least two stages");
    }
    if inputs.len() > 20 {
        errors.add("stages", "has more than 20 stages");
    }
    let mut seen = HashSet::new();
    let last = inputs.len().saturating_sub(1);
    let mut stages = Vec::with_capacity(inputs.len());
    for (i, s) in inputs.into_iter().enumerate() {
        let field = |f: &str| format!("stages[{i}].{f}");
        let name = s.name.map(|n| n.trim().to_string()).unwrap_or_default();
        if name.is_empty() {
            errors.add(&field("name"), "is required");
        } else if name == LOST {
            errors.add(
                &field("name"),
                "'lost' is reserved: every funnel can end in it",
            );
        } else if !seen.insert(name.clone()) {
            errors.add(&field("name"), format!("'{name}' appears twice"));
        }
        if s.optional && (i == 0 || i == last) {
            errors.add(
                &field("optional"),
                "the first and the last stage cannot be optional",
            );
        }
        let mut span =
            |f: &str, v: Option<String>| v.and_then(|v| errors.take(&field(f), Span::parse(&v)));
        let window = span("window", s.window);
        let min_gap = span("min_gap", s.min_gap);
        if i == 0 && (window.is_some() || min_gap.is_some()) {
            errors.add(
                &field("window"),
                "the first stage has no previous step to measure from",
            );
        }
        if let (Some(w), Some(g)) = (window, min_gap)
            && g > w
        {
            errors.add(&field("min_gap"), "is longer than the window");
        }
        if let Some(l) = &s.lifecycle
            && !LIFECYCLE_STAGES.contains(&l.as_str())
        {
            errors.add(
                &field("lifecycle"),
                format!("must be one of {}", LIFECYCLE_STAGES.join(", ")),
            );
        }
        stages.push(Stage {
            name,
            optional: s.optional,
            window,
            min_gap,
            lifecycle: s.lifecycle,
            on_qualified: s.on_qualified,
        });
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str) -> StageInput {
        StageInput {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn spans_round_trip() {
        assert_eq!(Span::parse("14d").unwrap().secs(), 14 * 86_400);
        assert_eq!(Span::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Span::parse("120m").unwrap().to_string(), "2h");
        assert!(Span::parse("0d").is_err());
        assert!(Span::parse("d").is_err());
        assert!(Span::parse("3y").is_err());
        assert!(Span::parse("").is_err());
    }

    #[test]
    fn validates_stages_and_names_fields() {
        let mut mid = stage("b");
        mid.optional = true;
        mid.window = Some("2d".into());
        let ok = FunnelDef::parse(FunnelInput {
            name: Some("f".into()),
            stages: Some(vec![stage("a"), mid, stage("c")]),
            open_on_lead_created: None,
        })
        .unwrap();
        assert_eq!(ok.won_stage(), "c");
        assert!(ok.is_terminal("lost") && ok.is_terminal("c") && !ok.is_terminal("b"));

        let mut first = stage("a");
        first.optional = true;
        let bad = FunnelDef::parse(FunnelInput {
            name: Some("f".into()),
            stages: Some(vec![first, stage("a"), stage("lost")]),
            open_on_lead_created: None,
        })
        .unwrap_err();
        let fields: Vec<_> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["stages[0].optional", "stages[1].name", "stages[2].name"]
        );
    }
}
