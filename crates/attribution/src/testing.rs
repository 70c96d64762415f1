//! Paths for the unit tests: one written out, or many at random.

use rand::Rng;
use rand::rngs::StdRng;

use crate::input::PathStat;

/// A path of `channels` in order, with its counts and value.
pub(crate) fn path(channels: &[&str], conversions: f64, value: f64, nulls: f64) -> PathStat {
    PathStat {
        channels: channels.iter().map(|c| c.to_string()).collect(),
        conversions,
        value,
        nulls,
    }
}

/// `paths` random paths of 1 to `max_len` touches over `channels` channels named `ch0`,
/// `ch1`, …: half of them convert 0 to 4 times, with a value below 500 when they do, and
/// each has 0 to 7 nulls.
pub(crate) fn random_paths(
    rng: &mut StdRng,
    channels: usize,
    paths: usize,
    max_len: usize,
) -> Vec<PathStat> {
    let names: Vec<String> = (0..channels).map(|c| format!("ch{c}")).collect();
    (0..paths)
        .map(|_| {
            let len = rng.random_range(1..=max_len);
            let conversions = if rng.random_bool(0.5) {
                f64::from(rng.random_range(0..5u32))
            } else {
                0.0
            };
            PathStat {
                channels: (0..len)
                    .map(|_| names[rng.random_range(0..channels)].clone())
                    .collect(),
                conversions,
                value: if conversions > 0.0 {
                    rng.random_range(0.0..500.0)
                } else {
                    0.0
                },
                nulls: f64::from(rng.random_range(0..8u32)),
            }
        })
        .collect()
}
