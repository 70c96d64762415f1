//! Seeded synthetic journeys for benchmarks and tests, shaped like a year of B2B marketing:
//! [`SyntheticConfig::benchmark`] gives 1M journeys over 12 channels, a mean of 3 touches
//! and about 175k distinct paths.
//!
//! The same config and seed always give the same data (rand 0.9's `StdRng`), whether read as
//! journeys with timestamps, as aggregated paths, or as ChannelAttribution CSV for a Python
//! peer: all three come from one generator drawing the same numbers.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::formats::write_channel_attribution_csv;
use crate::input::{Journey, PathStat, Touch};

/// The twelve channel names, matching the leads service's sources where they overlap.
pub const CHANNELS: [&str; 12] = [
    "paid_search",
    "email",
    "organic_search",
    "direct",
    "paid_social",
    "display",
    "referral",
    "content",
    "webinar",
    "affiliate",
    "event",
    "sdr",
];

/// How each channel moves a journey's odds of converting (log-odds per distinct channel).
const LIFT: [f64; 12] = [
    0.55, 0.65, 0.35, 0.15, 0.25, 0.05, 0.45, 0.30, 0.60, 0.20, 0.50, 0.70,
];

/// Longest journey generated; the geometric tail beyond it is cut.
const MAX_TOUCHES: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    pub journeys: usize,
    /// 1 to 12 channels, taken from [`CHANNELS`] in order.
    pub channels: usize,
    /// Mean touches per journey, at least 1 (lengths are 1 + geometric).
    pub mean_touches: f64,
    pub seed: u64,
    /// Journeys start within the year after this instant.
    pub start: DateTime<Utc>,
}

impl SyntheticConfig {
    /// 1M journeys, 12 channels, 3 touches on average: about 175k distinct paths.
    pub fn benchmark() -> SyntheticConfig {
        SyntheticConfig {
            journeys: 1_000_000,
            channels: 12,
            mean_touches: 3.0,
            seed: 42,
            start: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    /// The benchmark's shape with fewer journeys.
    pub fn with_journeys(journeys: usize) -> SyntheticConfig {
        SyntheticConfig {
            journeys,
            ..SyntheticConfig::benchmark()
        }
    }
}

/// One generated journey, before it is given channel names.
struct Draft<'a> {
    channels: &'a [u8],
    /// Seconds after the config's start, one per touch, ascending.
    times: &'a [i64],
    end: i64,
    lead: Option<usize>,
    opportunity: Option<usize>,
    converted: bool,
    value_cents: u64,
}

fn generate(config: &SyntheticConfig, mut each: impl FnMut(Draft<'_>)) {
    assert!(
        (1..=CHANNELS.len()).contains(&config.channels),
        "channels must be 1 to {}",
        CHANNELS.len()
    );
    assert!(
        config.mean_touches >= 1.0,
        "mean_touches must be at least 1"
    );
    let mut rng = StdRng::seed_from_u64(config.seed);
    let k = config.channels;
    // Zipf-like popularity: a few channels carry most touches.
    let popularity: Vec<f64> = (0..k).map(|c| 1.0 / (c as f64 + 1.0).powf(0.8)).collect();
    let total: f64 = popularity.iter().sum();
    let cumulative: Vec<f64> = popularity
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p / total;
            Some(*acc)
        })
        .collect();
    let pick = |rng: &mut StdRng| -> u8 {
        let u: f64 = rng.random();
        cumulative.iter().position(|&c| u < c).unwrap_or(k - 1) as u8
    };
    let carry_on = 1.0 - 1.0 / config.mean_touches;
    let mut channels: Vec<u8> = Vec::with_capacity(MAX_TOUCHES);
    let mut times: Vec<i64> = Vec::with_capacity(MAX_TOUCHES);
    let mut seen = [false; CHANNELS.len()];
    for _ in 0..config.journeys {
        channels.clear();
        times.clear();
        channels.push(pick(&mut rng));
        while channels.len() < MAX_TOUCHES && rng.random_bool(carry_on) {
            // Journeys often come back through the channel they last used.
            let next = if rng.random_bool(0.2) {
                channels[channels.len() - 1]
            } else {
                pick(&mut rng)
            };
            channels.push(next);
        }
        let n = channels.len();
        let mut t = rng.random_range(0..365 * 86_400i64);
        for _ in 0..n {
            times.push(t);
            // Gaps of about two days, exponential; some touches share an instant.
            let gap = -rng.random::<f64>().max(1e-12).ln() * 2.0 * 86_400.0;
            t += if rng.random_bool(0.05) { 0 } else { gap as i64 };
        }
        seen.fill(false);
        let mut score = -3.4 + 0.12 * n as f64;
        for &c in &channels {
            if !seen[c as usize] {
                seen[c as usize] = true;
                score += LIFT[c as usize];
            }
        }
        let converted = rng.random_bool(1.0 / (1.0 + (-score).exp()));
        let lead = if converted || rng.random_bool(0.5) {
            Some(rng.random_range(0..n.div_ceil(2)))
        } else {
            None
        };
        let opportunity = match lead {
            Some(l) if converted => Some(rng.random_range(l..n)),
            _ => None,
        };
        let value_cents = if converted {
            let base = 20_000.0 + 60_000.0 * LIFT[channels[0] as usize];
            (base * rng.random_range(0.5..1.5)).round() as u64
        } else {
            0
        };
        let end = times[n - 1] + rng.random_range(0..86_400i64);
        each(Draft {
            channels: &channels,
            times: &times,
            end,
            lead,
            opportunity,
            converted,
            value_cents,
        });
    }
}

/// The journeys, one converting (conversions 1, nulls 0) or not (0, 1) each, touches in time
/// order. About 300 MB for the benchmark config.
pub fn journeys(config: &SyntheticConfig) -> Vec<Journey> {
    let mut out = Vec::with_capacity(config.journeys);
    let at = |s: i64| config.start + Duration::seconds(s);
    generate(config, |d| {
        out.push(Journey {
            touches: d
                .channels
                .iter()
                .zip(d.times)
                .enumerate()
                .map(|(i, (&c, &t))| Touch {
                    channel: CHANNELS[c as usize].to_owned(),
                    at: at(t),
                    lead_creation: d.lead == Some(i),
                    opportunity_creation: d.opportunity == Some(i),
                })
                .collect(),
            converted_at: at(d.end),
            conversions: if d.converted { 1.0 } else { 0.0 },
            value: d.value_cents as f64 / 100.0,
            nulls: if d.converted { 0.0 } else { 1.0 },
        });
    });
    out
}

/// The same journeys aggregated by channel sequence, in order of first occurrence.
pub fn paths(config: &SyntheticConfig) -> Vec<PathStat> {
    struct Totals {
        conversions: u64,
        cents: u64,
        nulls: u64,
    }
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut sequences: Vec<Vec<u8>> = Vec::new();
    let mut totals: Vec<Totals> = Vec::new();
    generate(config, |d| {
        let i = match index.get(d.channels) {
            Some(&i) => i,
            None => {
                index.insert(d.channels.to_vec(), totals.len());
                sequences.push(d.channels.to_vec());
                totals.push(Totals {
                    conversions: 0,
                    cents: 0,
                    nulls: 0,
                });
                totals.len() - 1
            }
        };
        let t = &mut totals[i];
        if d.converted {
            t.conversions += 1;
            t.cents += d.value_cents;
        } else {
            t.nulls += 1;
        }
    });
    sequences
        .into_iter()
        .zip(totals)
        .map(|(s, t)| PathStat {
            channels: s.iter().map(|&c| CHANNELS[c as usize].to_owned()).collect(),
            conversions: t.conversions as f64,
            value: t.cents as f64 / 100.0,
            nulls: t.nulls as f64,
        })
        .collect()
}

/// [`paths`] as ChannelAttribution CSV, to feed a Python or R peer the same data.
pub fn channel_attribution_csv(config: &SyntheticConfig) -> String {
    write_channel_attribution_csv(&paths(config))
        .expect("generated channel names and amounts are always writable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_channel_attribution_csv;
    use crate::input::JourneySet;

    #[test]
    fn same_seed_same_data_and_paths_aggregate_journeys() {
        let config = SyntheticConfig::with_journeys(5_000);
        assert_eq!(paths(&config), paths(&config));
        let journeys = journeys(&config);
        assert_eq!(journeys, self::journeys(&config));
        let from_journeys = JourneySet::new(&journeys).unwrap().paths().to_path_stats();
        let direct = paths(&config);
        assert_eq!(from_journeys.len(), direct.len());
        for (a, b) in from_journeys.iter().zip(&direct) {
            assert_eq!(a.channels, b.channels);
            assert_eq!((a.conversions, a.nulls), (b.conversions, b.nulls));
            assert!((a.value - b.value).abs() <= 1e-9 * b.value.max(1.0));
        }
        let other = SyntheticConfig {
            seed: 43,
            ..config.clone()
        };
        assert_ne!(paths(&other), direct);
    }

    #[test]
    fn journeys_look_like_marketing_data() {
        let config = SyntheticConfig::with_journeys(20_000);
        let journeys = journeys(&config);
        let touches: usize = journeys.iter().map(|j| j.touches.len()).sum();
        let mean = touches as f64 / journeys.len() as f64;
        assert!((2.8..3.2).contains(&mean), "mean touches {mean}");
        let rate = journeys.iter().filter(|j| j.conversions > 0.0).count() as f64 / 20_000.0;
        assert!((0.03..0.3).contains(&rate), "conversion rate {rate}");
        for j in &journeys {
            assert!(j.touches.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(j.touches.iter().all(|t| t.at <= j.converted_at));
            if j.conversions > 0.0 {
                assert!(j.value > 0.0);
                let lead = j.touches.iter().position(|t| t.lead_creation).unwrap();
                let opportunity = j
                    .touches
                    .iter()
                    .position(|t| t.opportunity_creation)
                    .unwrap();
                assert!(lead <= opportunity);
            }
        }
        let used: std::collections::BTreeSet<&str> = journeys
            .iter()
            .flat_map(|j| j.touches.iter().map(|t| t.channel.as_str()))
            .collect();
        assert_eq!(used.len(), 12);
    }

    #[test]
    fn csv_matches_the_paths() {
        let config = SyntheticConfig {
            channels: 4,
            ..SyntheticConfig::with_journeys(2_000)
        };
        let parsed = parse_channel_attribution_csv(&channel_attribution_csv(&config)).unwrap();
        assert_eq!(parsed, paths(&config));
    }
}
