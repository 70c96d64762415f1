//! Shared helpers of the Markov tests: worked examples by hand in `worked`, comparisons
//! against independent implementations on random chains in `reference`.

mod reference;
mod worked;

use super::*;
use crate::input::PathStat;
use crate::testing::random_paths;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;

fn stat(path: &str, conversions: f64, value: f64, nulls: f64) -> PathStat {
    PathStat {
        channels: path.split(" > ").map(String::from).collect(),
        conversions,
        value,
        nulls,
    }
}

fn run(rows: &[PathStat], order: i64) -> ModelResult {
    attribute(
        &PathSet::new(rows).unwrap(),
        MarkovOrder::new(order).unwrap(),
    )
    .unwrap()
}

fn by_channel(result: &ModelResult) -> BTreeMap<String, (f64, f64, f64, f64)> {
    let effects = result.removal_effects.as_ref().unwrap();
    result
        .credits
        .iter()
        .zip(effects)
        .map(|(c, e)| {
            assert_eq!(c.channel, e.channel);
            (
                c.channel.clone(),
                (c.conversions, c.value, e.conversion, e.value),
            )
        })
        .collect()
}

fn near(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

/// Asserts each named channel's credits and removal effects, given as
/// `(channel, conversions, value, conversion effect, value effect)`.
fn assert_credits(result: &ModelResult, expected: &[(&str, f64, f64, f64, f64)]) {
    let found = by_channel(result);
    for &(channel, conversions, value, conversion_effect, value_effect) in expected {
        let (c, v, ce, ve) = found[channel];
        for (what, got, want) in [
            ("conversions", c, conversions),
            ("value", v, value),
            ("conversion effect", ce, conversion_effect),
            ("value effect", ve, value_effect),
        ] {
            assert!(
                (got - want).abs() < 1e-12,
                "{channel} {what}: {got} vs {want}"
            );
        }
    }
}
