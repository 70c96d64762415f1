//! Properties every model must keep on any input: credits are non-negative, add up to the
//! totals, treat channels in identical roles alike, and repeat bit for bit.

use std::collections::BTreeMap;

use attribution::formats::{parse_channel_attribution_csv, write_channel_attribution_csv};
use attribution::{
    FullPathWeights, HalfLife, Journey, JourneySet, MarkovOrder, Model, PathSet, PathStat,
    PositionWeights, Report, Touch, WShapedWeights, attribute_journeys, attribute_paths,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

const CHANNELS: [&str; 6] = ["a", "b", "c", "direct", "email", "zeta"];

fn path_models(weights: (f64, f64, f64)) -> Vec<Model> {
    let mut models = vec![
        Model::FirstTouch,
        Model::LastTouch,
        Model::LastNonDirect,
        Model::Linear,
        Model::PositionBased(PositionWeights::default()),
        Model::PositionBased(PositionWeights::new(weights.0, weights.1, weights.2).unwrap()),
        Model::Shapley,
    ];
    models.extend((1..=4).map(|k| Model::Markov(MarkovOrder::new(k).unwrap())));
    models
}

fn journey_models(half_life_days: f64, w: (f64, f64, f64)) -> Vec<Model> {
    let mut models = path_models(w);
    models.extend([
        Model::TimeDecay(HalfLife::default()),
        Model::TimeDecay(HalfLife::days(half_life_days).unwrap()),
        Model::WShaped(WShapedWeights::default()),
        Model::WShaped(WShapedWeights::new(w.0, w.1, w.2, 0.1).unwrap()),
        Model::FullPath(FullPathWeights::default()),
        Model::FullPath(FullPathWeights::new(w.0, w.1, w.2, w.0, 0.0).unwrap()),
    ]);
    models
}

fn amount() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0..10.0, (0u32..6).prop_map(f64::from)]
}

fn path_stat() -> impl Strategy<Value = PathStat> {
    (
        prop::collection::vec(prop::sample::select(&CHANNELS[..]), 1..7),
        amount(),
        0.0..1000.0f64,
        amount(),
    )
        .prop_map(|(channels, conversions, value, nulls)| PathStat {
            channels: channels.into_iter().map(String::from).collect(),
            conversions,
            value: if conversions > 0.0 { value } else { 0.0 },
            nulls,
        })
}

fn weights() -> impl Strategy<Value = (f64, f64, f64)> {
    (0.0..1.0f64, 0.0..1.0f64, 0.01..1.0f64)
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

fn journey() -> impl Strategy<Value = Journey> {
    // Touch times on whole days in a short window, so ties are common.
    let touch = (
        prop::sample::select(&CHANNELS[..]),
        0i64..8,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(channel, day, lead, opportunity)| Touch {
            channel: channel.into(),
            at: base() + Duration::days(day),
            lead_creation: lead,
            opportunity_creation: opportunity,
        });
    (
        prop::collection::vec(touch, 1..7),
        0i64..5,
        prop::bool::ANY,
        0.0..500.0f64,
    )
        .prop_map(|(touches, extra, converted, value)| Journey {
            touches,
            converted_at: base() + Duration::days(8 + extra),
            conversions: if converted { 1.0 } else { 0.0 },
            value: if converted { value } else { 0.0 },
            nulls: if converted { 0.0 } else { 1.0 },
        })
}

fn check_sums_and_signs(report: &Report) -> Result<(), TestCaseError> {
    let close = |sum: f64, total: f64| (sum - total).abs() <= 1e-9 * total;
    for result in &report.results {
        let conversions: f64 = result.credits.iter().map(|c| c.conversions).sum();
        let value: f64 = result.credits.iter().map(|c| c.value).sum();
        prop_assert!(
            result
                .credits
                .iter()
                .all(|c| c.conversions >= 0.0 && c.value >= 0.0),
            "{}: negative credit {:?}",
            result.model,
            result.credits
        );
        prop_assert!(
            close(conversions, report.total_conversions),
            "{} {:?}: conversions {} vs {}",
            result.model,
            result.order,
            conversions,
            report.total_conversions
        );
        prop_assert!(
            close(value, report.total_value),
            "{} {:?}: value {} vs {}",
            result.model,
            result.order,
            value,
            report.total_value
        );
        if let Some(effects) = &result.removal_effects {
            prop_assert!(
                effects
                    .iter()
                    .all(|e| (0.0..=1.0).contains(&e.conversion) && (0.0..=1.0).contains(&e.value))
            );
        }
    }
    Ok(())
}

/// Swaps channels `a` and `b`.
fn swap(channel: &str) -> String {
    match channel {
        "a" => "b".into(),
        "b" => "a".into(),
        other => other.into(),
    }
}

/// Credits of `a` and `b` per model (index in the report).
fn a_and_b(report: &Report) -> Vec<((f64, f64), (f64, f64))> {
    report
        .results
        .iter()
        .map(|r| {
            let get = |name: &str| {
                r.credits
                    .iter()
                    .find(|c| c.channel == name)
                    .map_or((0.0, 0.0), |c| (c.conversions, c.value))
            };
            (get("a"), get("b"))
        })
        .collect()
}

fn check_symmetric(report: &Report) -> Result<(), TestCaseError> {
    let tolerance_c = 1e-9 * report.total_conversions.max(1.0);
    let tolerance_v = 1e-9 * report.total_value.max(1.0);
    for (result, (a, b)) in report.results.iter().zip(a_and_b(report)) {
        prop_assert!(
            (a.0 - b.0).abs() <= tolerance_c && (a.1 - b.1).abs() <= tolerance_v,
            "{} {:?}: a {:?} vs b {:?}",
            result.model,
            result.order,
            a,
            b
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn path_models_sum_to_totals_without_negative_credit(
        stats in prop::collection::vec(path_stat(), 0..25),
        w in weights(),
    ) {
        let report = attribute_paths(&PathSet::new(&stats).unwrap(), &path_models(w)).unwrap();
        check_sums_and_signs(&report)?;
    }

    #[test]
    fn journey_models_sum_to_totals_without_negative_credit(
        journeys in prop::collection::vec(journey(), 0..20),
        half_life in 0.01..30.0f64,
        w in weights(),
    ) {
        let set = JourneySet::new(&journeys).unwrap();
        let report = attribute_journeys(&set, &journey_models(half_life, w)).unwrap();
        check_sums_and_signs(&report)?;
    }

    #[test]
    fn same_input_gives_bit_identical_output(
        stats in prop::collection::vec(path_stat(), 1..25),
        journeys in prop::collection::vec(journey(), 1..15),
        w in weights(),
    ) {
        let run = || {
            let paths = serde_json::to_string(
                &attribute_paths(&PathSet::new(&stats).unwrap(), &path_models(w)).unwrap(),
            )
            .unwrap();
            let journeys = serde_json::to_string(
                &attribute_journeys(&JourneySet::new(&journeys).unwrap(), &journey_models(2.0, w))
                    .unwrap(),
            )
            .unwrap();
            (paths, journeys)
        };
        prop_assert_eq!(run(), run());
    }

    /// Every path comes with its mirror image under a ↔ b, so a and b play identical roles.
    #[test]
    fn mirrored_channels_get_equal_credit(
        stats in prop::collection::vec(path_stat(), 1..15),
        journeys in prop::collection::vec(journey(), 1..12),
        w in weights(),
    ) {
        let mirrored: Vec<PathStat> = stats
            .iter()
            .flat_map(|p| {
                let image = PathStat {
                    channels: p.channels.iter().map(|c| swap(c)).collect(),
                    ..p.clone()
                };
                [p.clone(), image]
            })
            .collect();
        check_symmetric(&attribute_paths(&PathSet::new(&mirrored).unwrap(), &path_models(w)).unwrap())?;

        let mirrored: Vec<Journey> = journeys
            .iter()
            .flat_map(|j| {
                let mut image = j.clone();
                for t in &mut image.touches {
                    t.channel = swap(&t.channel);
                }
                [j.clone(), image]
            })
            .collect();
        let set = JourneySet::new(&mirrored).unwrap();
        check_symmetric(&attribute_journeys(&set, &journey_models(3.0, w)).unwrap())?;
    }

    /// Renaming channels (which changes their sort order and so the internal ids) moves
    /// credit with the names and changes nothing else.
    #[test]
    fn renaming_channels_moves_credit_with_them(
        stats in prop::collection::vec(path_stat(), 1..20),
        w in weights(),
    ) {
        let rename = |c: &str| match c {
            "a" => "zz_a".to_string(),
            "zeta" => "0_zeta".to_string(),
            other => other.to_string(),
        };
        let renamed: Vec<PathStat> = stats
            .iter()
            .map(|p| PathStat { channels: p.channels.iter().map(|c| rename(c)).collect(), ..p.clone() })
            .collect();
        let before = attribute_paths(&PathSet::new(&stats).unwrap(), &path_models(w)).unwrap();
        let after = attribute_paths(&PathSet::new(&renamed).unwrap(), &path_models(w)).unwrap();
        for (x, y) in before.results.iter().zip(&after.results) {
            let credits: BTreeMap<String, (f64, f64)> = y
                .credits
                .iter()
                .map(|c| (c.channel.clone(), (c.conversions, c.value)))
                .collect();
            for c in &x.credits {
                let (conversions, value) = credits[&rename(&c.channel)];
                prop_assert!((conversions - c.conversions).abs() <= 1e-9 * before.total_conversions.max(1.0));
                prop_assert!((value - c.value).abs() <= 1e-9 * before.total_value.max(1.0));
            }
        }
    }

    #[test]
    fn csv_round_trips(
        stats in prop::collection::vec(
            (
                prop::collection::vec("[a-z][a-z_ ]{0,8}[a-z]", 1..6),
                0.0..1e9f64,
                0.0..1e12f64,
                (0u32..100_000).prop_map(f64::from),
            ),
            0..30,
        ),
    ) {
        let stats: Vec<PathStat> = stats
            .into_iter()
            .map(|(channels, conversions, value, nulls)| PathStat {
                channels,
                conversions,
                value: if conversions > 0.0 { value } else { 0.0 },
                nulls,
            })
            .collect();
        let text = write_channel_attribution_csv(&stats).unwrap();
        prop_assert_eq!(parse_channel_attribution_csv(&text).unwrap(), stats);
    }
}

#[test]
fn journeys_and_their_aggregated_paths_agree_on_path_models() {
    let journeys: Vec<Journey> = (0..40)
        .map(|i| Journey {
            touches: (0..1 + i % 4)
                .map(|k| Touch {
                    channel: CHANNELS[(i * 7 + k * 3) % CHANNELS.len()].into(),
                    at: base() + Duration::hours((k * 5) as i64),
                    lead_creation: k == 0,
                    opportunity_creation: false,
                })
                .collect(),
            converted_at: base() + Duration::days(2),
            conversions: (i % 3) as f64,
            value: (i % 3) as f64 * 12.5,
            nulls: (i % 2) as f64,
        })
        .collect();
    let set = JourneySet::new(&journeys).unwrap();
    let models = path_models((0.3, 0.3, 0.4));
    let from_journeys = attribute_journeys(&set, &models).unwrap();
    let from_paths = attribute_paths(set.paths(), &models).unwrap();
    assert_eq!(from_journeys, from_paths);
    // The service can ask for every model by name on stored journeys.
    let every: Vec<Model> = attribution::MODEL_NAMES
        .iter()
        .map(|n| Model::parse(n).unwrap())
        .collect();
    let report = attribute_journeys(&set, &every).unwrap();
    assert_eq!(report.results.len(), attribution::MODEL_NAMES.len());
}
