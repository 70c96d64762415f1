//! The service's own settings (journey window, micro-conversions, bulk ingest limits), read
//! from `TOUCHSTONE_TOUCHPOINTS__<SECTION>__<KEY>` beside the platform's.

use std::collections::HashSet;

use contracts::touchpoints::TOUCH_TYPES;

use crate::domain::deal_credit::AttributionRule;

#[derive(Debug, Clone)]
pub struct TouchpointsConfig {
    /// A journey is the touches this many days before its conversion (`JOURNEY__LOOKBACK_DAYS`).
    pub lookback_days: u32,
    /// Touch types that count as micro-conversions (`JOURNEY__MICRO_CONVERSIONS`, comma
    /// separated; empty for none).
    pub micro_conversion_types: HashSet<String>,
    /// Valid NDJSON lines written per transaction (`INGEST__CHUNK_LINES`).
    pub chunk_lines: usize,
    /// NDJSON bytes after which a chunk is written even if it has fewer lines
    /// (`INGEST__CHUNK_BYTES`): this, not the line count, bounds memory when lines are long.
    pub chunk_bytes: usize,
    /// Chunks of one bulk request written at once, each on its own connection
    /// (`INGEST__PARALLEL_CHUNKS`).
    pub parallel_chunks: usize,
    /// Longest accepted NDJSON line in bytes (`INGEST__MAX_LINE_BYTES`).
    pub max_line_bytes: usize,
    /// Rejected lines listed in a bulk response; all are counted (`INGEST__MAX_LISTED_ERRORS`).
    pub max_listed_errors: usize,
    /// `touchpoint.recorded` events per AMQP message (`INGEST__EVENTS_PER_MESSAGE`).
    pub events_per_message: usize,
    /// How a won deal is attributed for `conversion.attributed`: `ATTRIBUTION__MODEL` (a model
    /// name, default `markov`), `ATTRIBUTION__MARKOV_ORDER` (1 to 4, default 1),
    /// `ATTRIBUTION__TRAINING_DAYS` (default 90) and `ATTRIBUTION__MIN_CONVERSIONS` (default 30).
    pub attribution: AttributionRule,
}

impl Default for TouchpointsConfig {
    fn default() -> Self {
        TouchpointsConfig {
            lookback_days: 90,
            micro_conversion_types: HashSet::from(["form_submit".to_string()]),
            chunk_lines: 5_000,
            chunk_bytes: 2 * 1024 * 1024,
            parallel_chunks: 2,
            max_line_bytes: 64 * 1024,
            max_listed_errors: 1_000,
            events_per_message: 100,
            attribution: AttributionRule::default(),
        }
    }
}

impl TouchpointsConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(|k| std::env::var(format!("TOUCHSTONE_TOUCHPOINTS__{k}")).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut c = TouchpointsConfig::default();
        let number = |key: &str, min: usize| -> anyhow::Result<Option<usize>> {
            match var(key) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if n >= min => Ok(Some(n)),
                    _ => anyhow::bail!("TOUCHSTONE_TOUCHPOINTS__{key} must be an integer ≥ {min}"),
                },
            }
        };
        if let Some(n) = number("JOURNEY__LOOKBACK_DAYS", 1)? {
            c.lookback_days = u32::try_from(n)?;
        }
        if let Some(list) = var("JOURNEY__MICRO_CONVERSIONS") {
            c.micro_conversion_types = parse_types(&list)?;
        }
        if let Some(n) = number("INGEST__CHUNK_LINES", 1)? {
            c.chunk_lines = n;
        }
        if let Some(n) = number("INGEST__CHUNK_BYTES", 1)? {
            c.chunk_bytes = n;
        }
        if let Some(n) = number("INGEST__PARALLEL_CHUNKS", 1)? {
            c.parallel_chunks = n;
        }
        if let Some(n) = number("INGEST__MAX_LINE_BYTES", 256)? {
            c.max_line_bytes = n;
        }
        if let Some(n) = number("INGEST__MAX_LISTED_ERRORS", 0)? {
            c.max_listed_errors = n;
        }
        if let Some(n) = number("INGEST__EVENTS_PER_MESSAGE", 1)? {
            c.events_per_message = n;
        }
        let order = match number("ATTRIBUTION__MARKOV_ORDER", 1)? {
            Some(n) => attribution::MarkovOrder::new(n as i64).map_err(|e| {
                anyhow::anyhow!("TOUCHSTONE_TOUCHPOINTS__ATTRIBUTION__MARKOV_ORDER: {e}")
            })?,
            None => attribution::MarkovOrder::default(),
        };
        if let Some(name) = var("ATTRIBUTION__MODEL") {
            c.attribution.model = attribution::Model::parse(name.trim())
                .map_err(|e| anyhow::anyhow!("TOUCHSTONE_TOUCHPOINTS__ATTRIBUTION__MODEL: {e}"))?;
        }
        if let attribution::Model::Markov(_) = c.attribution.model {
            c.attribution.model = attribution::Model::Markov(order);
        }
        if let Some(n) = number("ATTRIBUTION__TRAINING_DAYS", 1)? {
            c.attribution.training_days = u32::try_from(n)?;
        }
        if let Some(n) = number("ATTRIBUTION__MIN_CONVERSIONS", 0)? {
            c.attribution.min_conversions = u32::try_from(n)?;
        }
        Ok(c)
    }
}

fn parse_types(list: &str) -> anyhow::Result<HashSet<String>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if TOUCH_TYPES.contains(&s) {
                Ok(s.to_string())
            } else {
                anyhow::bail!("{s:?} in JOURNEY__MICRO_CONVERSIONS is not a touch type")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = TouchpointsConfig::from_vars(|_| None).unwrap();
        assert_eq!(c.lookback_days, 90);
        assert!(c.micro_conversion_types.contains("form_submit"));
        let c = TouchpointsConfig::from_vars(|k| match k {
            "JOURNEY__LOOKBACK_DAYS" => Some("30".into()),
            "JOURNEY__MICRO_CONVERSIONS" => Some("download, call".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.lookback_days, 30);
        assert_eq!(c.micro_conversion_types.len(), 2);
        let c = TouchpointsConfig::from_vars(|k| match k {
            "ATTRIBUTION__MARKOV_ORDER" => Some("2".into()),
            "ATTRIBUTION__MIN_CONVERSIONS" => Some("0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            c.attribution.model,
            attribution::Model::Markov(attribution::MarkovOrder::new(2).unwrap())
        );
        assert_eq!(c.attribution.min_conversions, 0);
        assert!(
            TouchpointsConfig::from_vars(|k| (k == "ATTRIBUTION__MODEL").then(|| "magic".into()))
                .is_err()
        );
        assert!(
            TouchpointsConfig::from_vars(
                |k| (k == "JOURNEY__MICRO_CONVERSIONS").then(|| "purchase".into())
            )
            .is_err()
        );
        assert!(
            TouchpointsConfig::from_vars(|k| (k == "JOURNEY__LOOKBACK_DAYS").then(|| "0".into()))
                .is_err()
        );
    }
}
