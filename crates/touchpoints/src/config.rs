//! The service's own settings, read like the platform's through the layered
//! [`Settings`](platform::Settings): defaults, then the `[journey]`, `[ingest]` and
//! `[attribution]` tables of the service's file, then `TOUCHSTONE_TOUCHPOINTS__<SECTION>__<KEY>`
//! (e.g. `TOUCHSTONE_TOUCHPOINTS__JOURNEY__LOOKBACK_DAYS`). A value that does not parse or is
//! out of range fails at start with a message naming its key.

use std::collections::HashSet;
use std::time::Duration;

use attribution::{MarkovOrder, Model};
use contracts::touchpoints::TOUCH_TYPES;
use serde::Deserialize;

use crate::domain::deal_credit::AttributionRule;

/// `[journey]`: what a journey is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct JourneySettings {
    /// A journey is the touches this many days before its conversion (at least 1).
    pub lookback_days: u32,
    /// Touch types that count as micro-conversions: a comma-separated text or a list; empty
    /// for none.
    pub micro_conversions: TypeList,
}

/// A list of touch types, as text (`"form_submit, download"`, the environment's form) or as
/// a list (a TOML array).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum TypeList {
    Text(String),
    List(Vec<String>),
}

/// `[ingest]`: how ingest chunks, bounds, reports and publishes its work.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct IngestSettings {
    /// Valid NDJSON lines written per transaction (at least 1).
    pub chunk_lines: usize,
    /// NDJSON bytes after which a chunk is written even if it has fewer lines (at least 1):
    /// this, not the line count, bounds memory when lines are long.
    pub chunk_bytes: usize,
    /// Chunks of one bulk request written at once, each on its own connection (at least 1).
    pub parallel_chunks: usize,
    /// Longest accepted NDJSON line in bytes (at least 256).
    pub max_line_bytes: usize,
    /// Rejected lines listed in a bulk response; all are counted.
    pub max_listed_errors: usize,
    /// `touchpoint.recorded` events per AMQP message (at least 1).
    pub events_per_message: usize,
}

/// `[attribution]`: how a won deal is attributed for `conversion.attributed`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct AttributionSettings {
    /// A model name.
    pub model: String,
    /// The Markov chain's order, 1 to 4 (with `model = "markov"`).
    pub markov_order: u32,
    pub training_days: u32,
    pub min_conversions: u32,
    /// Seconds between trainings of a data-driven model (at least 1).
    pub model_refresh_secs: u64,
    /// Won deals attributed after which a data-driven model is trained again sooner
    /// (at least 1).
    pub model_refresh_conversions: u64,
}

/// When a data-driven model (markov, shapley) that attributes won deals is trained again.
///
/// It is trained once, kept in memory and applied to each won deal, so a deal is attributed
/// with a model at most `every` old that lacks at most the last `after_conversions`
/// attributed deals (a training sees every deal attributed before it began). A backdated
/// deal (a history import) is attributed with this current model, trained on the window
/// ending now, not with one trained on the window before its own `won_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRefresh {
    /// `attribution.model_refresh_secs` (default 300).
    pub every: Duration,
    /// `attribution.model_refresh_conversions` (default 200).
    pub after_conversions: u64,
}

impl Default for ModelRefresh {
    fn default() -> Self {
        ModelRefresh {
            every: Duration::from_secs(300),
            after_conversions: 200,
        }
    }
}

/// The settings as the service runs with them.
#[derive(Debug, Clone)]
pub struct TouchpointsConfig {
    /// A journey is the touches this many days before its conversion (`journey.lookback_days`).
    pub lookback_days: u32,
    /// Touch types that count as micro-conversions (`journey.micro_conversions`).
    pub micro_conversion_types: HashSet<String>,
    /// `[ingest]`, as it reads.
    pub ingest: IngestSettings,
    /// How a won deal is attributed for `conversion.attributed`: `attribution.model` (a model
    /// name, default `markov`), `attribution.markov_order` (1 to 4, default 1),
    /// `attribution.training_days` (default 90) and `attribution.min_conversions` (default 30).
    pub attribution: AttributionRule,
    /// When a data-driven `attribution` model is trained again, and so how stale it may be
    /// (see [`ModelRefresh`]).
    pub model_refresh: ModelRefresh,
}

impl Default for JourneySettings {
    fn default() -> Self {
        JourneySettings {
            lookback_days: 90,
            micro_conversions: TypeList::Text("form_submit".into()),
        }
    }
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            chunk_lines: 5_000,
            chunk_bytes: 2 * 1024 * 1024,
            parallel_chunks: 2,
            max_line_bytes: 64 * 1024,
            max_listed_errors: 1_000,
            events_per_message: 100,
        }
    }
}

impl Default for AttributionSettings {
    fn default() -> Self {
        let rule = AttributionRule::default();
        let refresh = ModelRefresh::default();
        AttributionSettings {
            model: rule.model.name().to_string(),
            markov_order: 1,
            training_days: rule.training_days,
            min_conversions: rule.min_conversions,
            model_refresh_secs: refresh.every.as_secs(),
            model_refresh_conversions: refresh.after_conversions,
        }
    }
}

impl Default for TouchpointsConfig {
    fn default() -> Self {
        Self::from_sections(
            JourneySettings::default(),
            IngestSettings::default(),
            AttributionSettings::default(),
        )
        .expect("the defaults are valid")
    }
}

impl TouchpointsConfig {
    /// The service's settings from its file and environment.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_for(crate::SERVICE)
    }

    fn load_for(service: &str) -> anyhow::Result<Self> {
        let settings = |e| anyhow::anyhow!("{service} settings: {e}");
        let journey = platform::Settings::section(service, "journey").map_err(settings)?;
        let ingest = platform::Settings::section(service, "ingest").map_err(settings)?;
        let attribution = platform::Settings::section(service, "attribution").map_err(settings)?;
        Self::from_sections(journey, ingest, attribution)
    }

    /// Checks the sections' values and puts them together.
    pub fn from_sections(
        journey: JourneySettings,
        ingest: IngestSettings,
        attribution: AttributionSettings,
    ) -> anyhow::Result<Self> {
        let at_least = |key: &str, value: usize, min: usize| {
            if value < min {
                anyhow::bail!("{} must be an integer ≥ {min}", name(key));
            }
            Ok(value)
        };
        at_least("journey.lookback_days", journey.lookback_days as usize, 1)?;
        at_least("ingest.chunk_lines", ingest.chunk_lines, 1)?;
        at_least("ingest.chunk_bytes", ingest.chunk_bytes, 1)?;
        at_least("ingest.parallel_chunks", ingest.parallel_chunks, 1)?;
        at_least("ingest.max_line_bytes", ingest.max_line_bytes, 256)?;
        at_least("ingest.events_per_message", ingest.events_per_message, 1)?;
        at_least(
            "attribution.training_days",
            attribution.training_days as usize,
            1,
        )?;
        at_least(
            "attribution.model_refresh_secs",
            usize::try_from(attribution.model_refresh_secs).unwrap_or(usize::MAX),
            1,
        )?;
        at_least(
            "attribution.model_refresh_conversions",
            usize::try_from(attribution.model_refresh_conversions).unwrap_or(usize::MAX),
            1,
        )?;
        let model = Model::parse(attribution.model.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", name("attribution.model")))?;
        let order = MarkovOrder::new(i64::from(attribution.markov_order))
            .map_err(|e| anyhow::anyhow!("{}: {e}", name("attribution.markov_order")))?;
        Ok(TouchpointsConfig {
            lookback_days: journey.lookback_days,
            micro_conversion_types: touch_types(&journey.micro_conversions)?,
            ingest,
            attribution: AttributionRule {
                model: match model {
                    Model::Markov(_) => Model::Markov(order),
                    other => other,
                },
                training_days: attribution.training_days,
                min_conversions: attribution.min_conversions,
            },
            model_refresh: ModelRefresh {
                every: Duration::from_secs(attribution.model_refresh_secs),
                after_conversions: attribution.model_refresh_conversions,
            },
        })
    }
}

/// A key as a file names it and as the environment does: `journey.lookback_days
/// (TOUCHSTONE_TOUCHPOINTS__JOURNEY__LOOKBACK_DAYS)`.
fn name(key: &str) -> String {
    let env = key.replace('.', "__").to_uppercase();
    format!(
        "{key} (TOUCHSTONE_{}__{env})",
        crate::SERVICE.to_uppercase()
    )
}

fn touch_types(list: &TypeList) -> anyhow::Result<HashSet<String>> {
    let names: Vec<&str> = match list {
        TypeList::Text(text) => text.split(',').collect(),
        TypeList::List(items) => items.iter().map(String::as_str).collect(),
    };
    names
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if TOUCH_TYPES.contains(&s) {
                Ok(s.to_string())
            } else {
                anyhow::bail!(
                    "{s:?} in {} is not a touch type",
                    name("journey.micro_conversions")
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(
        journey: JourneySettings,
        attribution: AttributionSettings,
    ) -> anyhow::Result<TouchpointsConfig> {
        TouchpointsConfig::from_sections(journey, IngestSettings::default(), attribution)
    }

    #[test]
    fn defaults_and_overrides() {
        let c = TouchpointsConfig::default();
        assert_eq!(c.lookback_days, 90);
        assert_eq!(c.ingest.chunk_lines, 5_000);
        assert_eq!(
            c.micro_conversion_types,
            HashSet::from(["form_submit".into()])
        );
        assert_eq!(c.attribution, AttributionRule::default());
        assert_eq!(c.model_refresh.every, Duration::from_secs(300));
        assert_eq!(c.model_refresh.after_conversions, 200);
        let c = with(
            JourneySettings {
                lookback_days: 30,
                micro_conversions: TypeList::Text("download, call".into()),
            },
            AttributionSettings {
                markov_order: 2,
                min_conversions: 0,
                model_refresh_secs: 5,
                model_refresh_conversions: 1,
                ..AttributionSettings::default()
            },
        )
        .unwrap();
        assert_eq!(
            c.model_refresh,
            ModelRefresh {
                every: Duration::from_secs(5),
                after_conversions: 1
            }
        );
        assert_eq!(c.lookback_days, 30);
        assert_eq!(c.micro_conversion_types.len(), 2);
        assert_eq!(
            c.attribution.model,
            Model::Markov(MarkovOrder::new(2).unwrap())
        );
        assert_eq!(c.attribution.min_conversions, 0);
        let none = JourneySettings {
            micro_conversions: TypeList::List(vec![]),
            ..JourneySettings::default()
        };
        let c = with(none, AttributionSettings::default()).unwrap();
        assert!(c.micro_conversion_types.is_empty());
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = |journey, attribution| with(journey, attribution).unwrap_err().to_string();
        let model = AttributionSettings {
            model: "magic".into(),
            ..AttributionSettings::default()
        };
        let e = err(JourneySettings::default(), model);
        assert!(
            e.contains("TOUCHSTONE_TOUCHPOINTS__ATTRIBUTION__MODEL"),
            "{e}"
        );
        let purchase = JourneySettings {
            micro_conversions: TypeList::Text("purchase".into()),
            ..JourneySettings::default()
        };
        let e = err(purchase, AttributionSettings::default());
        assert!(e.contains("journey.micro_conversions"), "{e}");
        let zero = JourneySettings {
            lookback_days: 0,
            ..JourneySettings::default()
        };
        let e = err(zero, AttributionSettings::default());
        assert!(
            e.contains("TOUCHSTONE_TOUCHPOINTS__JOURNEY__LOOKBACK_DAYS"),
            "{e}"
        );
        let order = AttributionSettings {
            markov_order: 5,
            ..AttributionSettings::default()
        };
        let e = err(JourneySettings::default(), order);
        assert!(e.contains("attribution.markov_order"), "{e}");
        let never = AttributionSettings {
            model_refresh_secs: 0,
            ..AttributionSettings::default()
        };
        let e = err(JourneySettings::default(), never);
        assert!(
            e.contains("TOUCHSTONE_TOUCHPOINTS__ATTRIBUTION__MODEL_REFRESH_SECS"),
            "{e}"
        );
        let never = AttributionSettings {
            model_refresh_conversions: 0,
            ..AttributionSettings::default()
        };
        let e = err(JourneySettings::default(), never);
        assert!(e.contains("attribution.model_refresh_conversions"), "{e}");
    }

    #[test]
    fn the_environment_is_read_through_the_layered_settings() {
        // A service name no other test uses, so the environment is this test's own.
        const SVC: &str = "touchpointsconfigtest";
        let set = |k: &str, v: &str| {
            // SAFETY: no other test reads or writes TOUCHSTONE_TOUCHPOINTSCONFIGTEST__*.
            unsafe { std::env::set_var(format!("TOUCHSTONE_TOUCHPOINTSCONFIGTEST__{k}"), v) }
        };
        let c = TouchpointsConfig::load_for(SVC).unwrap();
        assert_eq!(c.lookback_days, 90);
        set("JOURNEY__LOOKBACK_DAYS", "30");
        set("JOURNEY__MICRO_CONVERSIONS", "download, call");
        set("INGEST__CHUNK_LINES", "7");
        set("ATTRIBUTION__MODEL", "linear");
        set("ATTRIBUTION__MODEL_REFRESH_SECS", "60");
        let c = TouchpointsConfig::load_for(SVC).unwrap();
        assert_eq!(c.model_refresh.every, Duration::from_secs(60));
        assert_eq!(c.lookback_days, 30);
        assert_eq!(c.micro_conversion_types.len(), 2);
        assert_eq!(c.ingest.chunk_lines, 7);
        assert_eq!(c.attribution.model, Model::Linear);
        set("INGEST__CHUNK_LINES", "many");
        let e = format!("{:#}", TouchpointsConfig::load_for(SVC).unwrap_err());
        assert!(e.contains("chunk_lines"), "{e}");
        set("INGEST__CHUNK_LINES", "7");
        set("JOURNEY__MICRO_CONVERSIONS", "");
        let c = TouchpointsConfig::load_for(SVC).unwrap();
        assert!(c.micro_conversion_types.is_empty());
    }
}
